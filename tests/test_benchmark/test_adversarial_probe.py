"""discriminator_report against hand-computed values."""
import numpy as np
import pytest

from distill3d.benchmark.adversarial_probe import discriminator_report


def _report(**kw):
    n = 4
    args = dict(real_logits=np.array([1., 2., -1., 0.5]),
                fake_logits=np.array([-1., -2., 0.5, -0.5]),
                student=np.eye(n), teacher=np.eye(n),
                student_grad=np.ones((n, n)),
                labels=np.array([0, 0, 1, 1]))
    args.update(kw)
    return discriminator_report(**args)


def test_margin_accuracy_and_generator_loss():
    rep = _report()
    assert rep['num_samples'] == 4
    # real > 0: 3 of 4, fake < 0: 3 of 4
    assert rep['accuracy'] == pytest.approx(6 / 8)
    assert rep['real_logit'] == pytest.approx(0.625)
    assert rep['fake_logit'] == pytest.approx(-0.75)
    assert rep['margin'] == pytest.approx(1.375)
    fake = np.array([-1., -2., 0.5, -0.5])
    assert rep['generator_loss'] == pytest.approx(
        np.mean(np.log1p(np.exp(-fake))))
    assert rep['chance_loss'] == pytest.approx(np.log(2))
    # at logits 0 the generator loss sits at its chance floor
    zero = _report(real_logits=np.zeros(4), fake_logits=np.zeros(4))
    assert zero['generator_loss'] == pytest.approx(np.log(2))
    assert zero['margin'] == 0


def test_per_sample_tie():
    # student i equals teacher i; other samples are orthogonal
    rep = _report()
    assert rep['cos_same_sample'] == pytest.approx(1.0)
    assert rep['cos_same_class'] == pytest.approx(0.0)
    # features of a class identical: the class partner is as close as
    # the sample itself, a sample of the other class orthogonal
    cls = np.array([[1., 0.], [1., 0.], [0., 1.], [0., 1.]])
    rep = _report(student=cls * 3, teacher=cls)
    assert rep['cos_same_sample'] == pytest.approx(1.0)
    assert rep['cos_same_class'] == pytest.approx(1.0)
    assert 0.0 <= rep['cos_any_sample'] <= 1.0


def test_gradient_coherence():
    # one direction for every sample: a push of the whole distribution
    rep = _report()
    assert rep['grad_cos_all'] == pytest.approx(1.0)
    assert rep['grad_cos_within_class'] == pytest.approx(1.0)
    assert rep['grad_norm'] == pytest.approx(2.0)
    # opposite directions in the two classes, one within each
    g = np.array([[1., 0.], [2., 0.], [-1., 0.], [-3., 0.]])
    rep = _report(student=np.eye(4)[:, :2], teacher=np.eye(4)[:, :2],
                  student_grad=g)
    assert rep['grad_cos_within_class'] == pytest.approx(1.0)
    assert rep['grad_cos_class_means'] == pytest.approx(-1.0)
    # pairs: (0,1) +1, (2,3) +1, four cross pairs -1: mean -1/3
    assert rep['grad_cos_all'] == pytest.approx(-1 / 3)


def test_mismatched_lengths_are_refused():
    with pytest.raises(ValueError, match='same 4 samples'):
        _report(fake_logits=np.zeros(3))


def test_classes_of_one_sample_have_no_within_class_cosine():
    rep = _report(labels=np.arange(4))
    assert np.isnan(rep['grad_cos_within_class'])
    # the partner of a sample alone in its class is the sample itself
    assert rep['cos_same_class'] == pytest.approx(rep['cos_same_sample'])
