"""The injection rail's cross-validation never tests a row with a classifier fit on it."""

from bench.rails import injection_folds


def test_each_row_is_tested_once_and_never_trained_on_in_its_own_fold():
    attack = [True] * 6 + [False] * 9

    folds = injection_folds(attack=attack, folds=3)

    tested = [int(row) for _, test in folds for row in test]
    assert sorted(tested) == list(range(15))  # every row tested, once
    for train, test in folds:
        assert not set(train) & set(test)
        assert set(train) | set(test) == set(range(15))
        assert sorted(attack[row] for row in test) == [False] * 3 + [True] * 2  # stratified
