//! Learning-rate schedules against PyTorch's `lr_scheduler`, pinned from:
//!
//! ```python
//! import torch
//! from torch.optim import lr_scheduler as L
//! def trace(make, n, lr=0.1):
//!     p = torch.zeros(1, requires_grad=True)
//!     opt = torch.optim.SGD([p], lr=lr); s = make(opt); out = []
//!     for _ in range(n):
//!         out.append(opt.param_groups[0]["lr"]); opt.step(); s.step()
//!     return out
//! ```

use nabla_nn::schedule::{
    Constant, CosineAnnealing, Exponential, LinearWarmup, Schedule, StepDecay,
};

/// PyTorch updates most rates recursively (multiplying the previous one), nabla evaluates
/// closed forms, so the two may differ in the last bits.
fn assert_trace(s: &dyn Schedule, want: &[f64]) {
    for (t, &w) in want.iter().enumerate() {
        let got = s.lr(t);
        assert!((got - w).abs() <= 1e-15, "epoch {t}: got {got}, want {w}");
    }
}

#[test]
fn constant_never_changes() {
    assert_trace(&Constant::new(0.1), &[0.1; 5]);
}

#[test]
fn step_decay_matches_step_lr() {
    // trace(lambda o: L.StepLR(o, step_size=3, gamma=0.5), 8)
    assert_trace(
        &StepDecay::new(0.1, 3, 0.5).unwrap(),
        &[0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.025, 0.025],
    );
}

#[test]
fn exponential_matches_exponential_lr() {
    // trace(lambda o: L.ExponentialLR(o, gamma=0.9), 5)
    assert_trace(
        &Exponential::new(0.1, 0.9),
        &[
            0.1,
            0.09000000000000001,
            0.08100000000000002,
            0.07290000000000002,
            0.06561000000000002,
        ],
    );
}

#[test]
fn cosine_annealing_matches_cosine_annealing_lr_over_more_than_a_period() {
    // trace(lambda o: L.CosineAnnealingLR(o, T_max=4, eta_min=0.01), 11)
    assert_trace(
        &CosineAnnealing::new(0.1, 4, 0.01).unwrap(),
        &[
            0.1,
            0.08681980515339464,
            0.05500000000000001,
            0.023180194846605363,
            0.01,
            0.023180194846605363,
            0.05500000000000002,
            0.08681980515339469,
            0.10000000000000006,
            0.0868198051533947,
            0.05500000000000005,
        ],
    );
}

/// A rate of 1e308 used to become infinite: (lr − eta_min)·(1 + cos) overflowed before halving.
#[test]
fn cosine_annealing_of_a_rate_near_the_largest_float_stays_finite() {
    let s = CosineAnnealing::new(1e308, 4, 0.0).unwrap();
    assert_eq!(s.lr(0), 1e308);
    assert!((0..9).all(|t| s.lr(t).is_finite()));
}

#[test]
fn linear_warmup_then_cosine_matches_sequential_lr() {
    // trace(lambda o: L.SequentialLR(o, [L.LinearLR(o, start_factor=0.25, total_iters=3),
    //     L.CosineAnnealingLR(o, T_max=4, eta_min=0.01)], milestones=[3]), 9)
    let s = LinearWarmup::new(3, 0.25, CosineAnnealing::new(0.1, 4, 0.01).unwrap()).unwrap();
    assert_trace(
        &s,
        &[
            0.025,
            0.05,
            0.07500000000000001,
            0.1,
            0.08681980515339464,
            0.05500000000000001,
            0.023180194846605363,
            0.01,
            0.023180194846605363,
        ],
    );
}

#[test]
fn linear_warmup_then_step_decay_matches_sequential_lr() {
    // trace(lambda o: L.SequentialLR(o, [L.LinearLR(o, start_factor=0.25, total_iters=3),
    //     L.StepLR(o, step_size=2, gamma=0.5)], milestones=[3]), 9)
    let s = LinearWarmup::new(3, 0.25, StepDecay::new(0.1, 2, 0.5).unwrap()).unwrap();
    assert_trace(
        &s,
        &[
            0.025,
            0.05,
            0.07500000000000001,
            0.1,
            0.1,
            0.05,
            0.05,
            0.025,
            0.025,
        ],
    );
}

#[test]
fn invalid_arguments_are_rejected() {
    assert_eq!(
        StepDecay::new(0.1, 0, 0.5).unwrap_err().to_string(),
        "StepDecay: step_size must be at least 1"
    );
    assert_eq!(
        CosineAnnealing::new(0.1, 0, 0.0).unwrap_err().to_string(),
        "CosineAnnealing: t_max must be at least 1"
    );
    assert_eq!(
        LinearWarmup::new(3, 1.5, Constant::new(0.1))
            .unwrap_err()
            .to_string(),
        "LinearWarmup: start_factor must lie in [0, 1], got 1.5"
    );
}
