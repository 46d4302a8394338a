"""Surrogate data: the notes' trajectories, split by trajectory, normalisation from train, NPZ round trip."""

from __future__ import annotations

import numpy as np
import pytest

from pinn.errors import PinnError
from pinn.reference import dop853
from pinn.surrogate.data import (
    DataConfig,
    TrajectoryData,
    flow_pairs,
    from_trajectories,
    load_trajectories,
    make_dataset,
    sample_times,
    simulate_trajectories,
    windows,
)
from problems.lorenz import LORENZ

lorenz_rhs = LORENZ.problem().rhs  # f(t, u) at the default constants


@pytest.fixture(scope="module")
def small_data() -> TrajectoryData:
    return make_dataset(lorenz_rhs, 3, DataConfig(n_traj=10, n_test=3, t_final=2.0, seed=7))


def test_sample_grid_is_the_notes_grid():
    t = sample_times(0.01, 8.0)
    assert t.size == 801 and t[0] == 0.0 and abs(t[-1] - 8.0) < 1e-12


def test_trajectories_match_dop853_reference():
    t, states = simulate_trajectories(lorenz_rhs, 2, 0.01, 4.0, seed=0)
    assert states.shape == (2, 401, 3)
    u0 = np.random.default_rng(0).uniform(-15, 15, (2, 3))
    np.testing.assert_allclose(states[:, 0], u0)
    ref = dop853(lorenz_rhs, u0[0], t)
    # measured 1.4e-8 (RK4 at dt/20 against DOP853 at rtol 1e-13 over t in [0, 4]; 4.1e-8 over [0, 8]); margin x20
    assert np.max(np.abs(states[0] - ref)) < 3e-7


def test_more_trajectories_keep_the_first_ones():
    _, a = simulate_trajectories(lorenz_rhs, 2, 0.01, 0.5, seed=3)
    _, b = simulate_trajectories(lorenz_rhs, 4, 0.01, 0.5, seed=3)
    np.testing.assert_array_equal(a, b[:2])


def test_split_has_no_trajectory_in_two_sets(small_data):
    sets = [set(small_data.train), set(small_data.val), set(small_data.test)]
    assert all(sets)
    assert not (sets[0] & sets[1] or sets[0] & sets[2] or sets[1] & sets[2])
    assert sets[0] | sets[1] | sets[2] == set(range(13))
    assert set(small_data.test) == {10, 11, 12}


def test_normaliser_is_fitted_on_train_only(small_data):
    train = small_data.subset("train").reshape(-1, 3)
    np.testing.assert_allclose(small_data.normaliser.state_mean, train.mean(0))
    np.testing.assert_allclose(small_data.normaliser.state_std, train.std(0))
    everything = small_data.states.reshape(-1, 3)
    assert not np.allclose(small_data.normaliser.state_mean, everything.mean(0))


def test_npz_round_trip_keeps_arrays_and_config(small_data, tmp_path):
    small_data.save(tmp_path / "d.npz")
    back = TrajectoryData.load(tmp_path / "d.npz")
    assert back.config == small_data.config
    np.testing.assert_array_equal(back.states, small_data.states)
    np.testing.assert_array_equal(back.val, small_data.val)
    np.testing.assert_array_equal(back.normaliser.rate_std, small_data.normaliser.rate_std)


def test_plain_simulation_npz_is_split(tmp_path, small_data):
    np.savez(tmp_path / "sim.npz", t=small_data.t, states=small_data.states)
    data = load_trajectories(tmp_path / "sim.npz", DataConfig(n_test=3))
    assert list(data.test) == [10, 11, 12] and data.config.n_traj == 10
    with pytest.raises(PinnError):
        load_trajectories(tmp_path / "missing.npz", DataConfig())
    with pytest.raises(PinnError):
        from_trajectories(small_data.t, small_data.states[:3], DataConfig(n_test=3))


def test_pairs_and_windows_line_up(small_data):
    states = small_data.subset("train")
    u, t, nxt = flow_pairs(states, small_data.t)
    assert u.shape == nxt.shape == (states.shape[0] * (states.shape[1] - 1), 3)
    np.testing.assert_array_equal(nxt[0], states[0, 1])
    hist, tw, target = windows(states, small_data.t, 5, stride=3)
    assert hist.shape[1:] == (5, 3)
    np.testing.assert_array_equal(hist[1, -1], states[0, 3 + 4])
    np.testing.assert_array_equal(target[1], states[0, 3 + 5])
    assert tw[1, 0] == pytest.approx(small_data.t[3 + 4])
