"""No aliasing: every bank sound and every played frame keeps its FM band under Nyquist."""

import numpy as np

from instrument.config import SoundConfig
from instrument.sound.bank import draw_params_unit
from instrument.sound.fm import render_fm
from instrument.sound.params import PARAM_TABLE, PERFORMANCE_RATE, alias_free, carson_bandwidth
from instrument.sound.smoothed_fm import SmoothedFM

NYQUIST = PERFORMANCE_RATE / 2


def folded_share(carrier, ratio, index, rate=PERFORMANCE_RATE, seconds=0.5):
    """Share of a static FM tone's spectral energy where no unfolded partial lies.

    The partials of FM are |carrier + n * modulator| (negative ones reflect at 0 Hz, which is
    real FM, not aliasing); sidebands above Nyquist fold back to other frequencies, so the
    energy farther than 3 bins from every partial below Nyquist is what aliasing added.
    """
    n = int(rate * seconds)
    audio = render_fm(carrier, ratio, index, 1.0, n, rate).astype(np.float64)
    power = np.abs(np.fft.rfft(audio * np.hanning(n))) ** 2
    freqs = np.fft.rfftfreq(n, 1 / rate)
    modulator = carrier * ratio
    orders = np.arange(-int(index) - 40, int(index) + 41)
    partials = np.abs(carrier + orders * modulator)
    partials = partials[partials < rate / 2]
    bin_hz = rate / n
    near = np.abs(freqs[:, None] - partials[None, :]).min(axis=1) <= 3 * bin_hz
    return float(power[~near].sum() / power.sum())


def test_every_sound_of_a_bank_fits_under_nyquist():
    unit = draw_params_unit(SoundConfig(n_sounds=5000, seed=3))
    physical = PARAM_TABLE.to_physical(unit.astype(np.float64))
    assert len(unit) == 5000
    assert carson_bandwidth(physical).max() <= NYQUIST
    # and the bank still reaches the top of every range
    assert physical[:, 0].max() > 1900 and physical[:, 1].max() > 7.5 and physical[:, 2].max() > 9.5


def test_alias_free_caps_index_then_ratio_and_leaves_good_values_alone():
    good = np.array([440.0, 2.0, 3.0, 0.5])
    assert np.array_equal(alias_free(good), good)
    capped = alias_free([1000.0, 4.0, 10.0, 1.0])
    assert capped[2] < 10 and carson_bandwidth(capped) <= NYQUIST
    assert carson_bandwidth(capped) > 0.99 * NYQUIST  # capped just enough
    sine = alias_free([2000.0, 8.0, 10.0, 1.0])  # even index 0 does not fit: lower the ratio
    assert sine[2] == 0 and sine[1] < 8 and carson_bandwidth(sine) <= NYQUIST
    rows = alias_free(np.array([good, [1000.0, 4.0, 10.0, 1.0]]))  # arrays of frames too
    assert np.array_equal(rows[0], good) and np.array_equal(rows[1], capped)


def test_bank_sounds_have_no_folded_back_energy():
    unit = draw_params_unit(SoundConfig(n_sounds=400, seed=1))
    physical = PARAM_TABLE.to_physical(unit.astype(np.float64))
    # the 12 bank sounds whose bands come closest to Nyquist: the hardest cases
    worst = physical[np.argsort(carson_bandwidth(physical))[-12:]]
    shares = [folded_share(c, r, i) for c, r, i, _ in worst]
    assert max(shares) < 0.02, shares  # Carson's band holds ~98% of the power
    # the check can fail: the same sounds uncapped at a higher index fold back a lot
    assert folded_share(1500.0, 6.0, 8.0) > 0.2


def test_numpy_voice_caps_at_its_own_rate():
    voice = SmoothedFM(22050, 0.001, initial=[440, 1, 0, 0])
    voice.set_target([1000.0, 4.0, 10.0, 1.0])
    voice.render(np.zeros(4096, np.float32))
    assert carson_bandwidth(voice.current) <= 22050 / 2 * 1.0001


def test_pyo_voice_caps_with_the_same_rule_at_its_rate():
    from instrument.output.pyo_voice import PyoVoice

    voice = PyoVoice("offline", rate=22050)
    voice.set_params([1000.0, 4.0, 10.0, 1.0])
    np.testing.assert_array_equal(voice._target, alias_free([1000.0, 4.0, 10.0, 1.0],
                                                            rate=22050))
    assert carson_bandwidth(voice._target) <= 22050 / 2
