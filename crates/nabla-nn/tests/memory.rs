//! A long run frees what each step builds: over 1,000 small training steps (an MLP with batch
//! norm and dropout, Adam, cross-entropy) the graph nodes and tensor storages alive after a step
//! stay exactly where they were after the first few, while a loop that keeps its losses is seen
//! to grow by the graph of every step.

use nabla_core::{DType, Generator, LiveCounts, Tensor, live_counts};
use nabla_nn::loss::cross_entropy;
use nabla_nn::models::{Hidden, MlpConfig, WeightInit};
use nabla_nn::module::Module;
use nabla_nn::optim::{Adam, Optim, Optimizer};

const STEPS: usize = 1000;

/// Runs `STEPS` training steps, keeping each step's loss when `keep_losses`, and returns the
/// live counts after each step.
fn counts_over_a_run(keep_losses: bool) -> Vec<LiveCounts> {
    let mut rng = Generator::new(0);
    let config = MlpConfig {
        input: 20,
        hidden: vec![32, 16],
        outputs: 10,
        activation: Hidden::Relu,
        init: WeightInit::He,
        batch_norm: true,
        dropout: 0.2,
    };
    let net = config.build(DType::F32, &mut rng).unwrap();
    let mut optimizer = Optim::new(net.named_parameters(), Adam::new(), 1e-3).unwrap();
    let features = Tensor::randn_with(&[16, 20], DType::F32, &mut rng);
    let targets = Tensor::from_vec((0..16).map(|i| i % 10).collect::<Vec<i64>>(), &[16]);
    let mut kept = Vec::new();
    let mut counts = Vec::with_capacity(STEPS);
    for _ in 0..STEPS {
        optimizer.zero_grad();
        let loss = cross_entropy(&net.forward(&features), &targets);
        loss.backward();
        optimizer.step().unwrap();
        if keep_losses {
            kept.push(loss);
        }
        counts.push(live_counts());
    }
    counts
}

#[test]
fn graphs_and_saved_tensors_are_freed_after_every_step() {
    nabla_core::set_num_threads(1).unwrap();
    let counts = counts_over_a_run(false);
    // Adam's state is created by its first step; from then on every step frees all it built.
    assert!(
        counts[2..].iter().all(|c| *c == counts[2]),
        "{:?} after step 3, {:?} after step {STEPS}",
        counts[2],
        counts[STEPS - 1]
    );

    let leaking = counts_over_a_run(true);
    let (early, late) = (leaking[2], leaking[STEPS - 1]);
    assert!(
        late.graph_nodes - early.graph_nodes >= (STEPS - 3) as isize
            && late.storages - early.storages >= (STEPS - 3) as isize,
        "{early:?} -> {late:?}"
    );
}
