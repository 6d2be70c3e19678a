//! Every backward rule of the layer library, in one table checked like the core's: gradients
//! and second derivatives against central differences in f64, forward mode against reverse
//! mode, and a test that fails while some rule the crate defines has no row.

#[path = "../../nabla-core/tests/support/op_table.rs"]
mod support;

use nabla_core::{GradcheckOptions, Tensor};
use nabla_nn::loss::{CrossEntropyOptions, cross_entropy, cross_entropy_with};
use support::{Row, input};

fn labels() -> Tensor {
    Tensor::from_vec(vec![2i64, 0, 3], &[3])
}

fn table() -> Vec<Row> {
    vec![
        (
            "cross_entropy",
            |v| cross_entropy(&v[0], &labels()),
            vec![input(&[3, 4], 1.0, 2.0, 0.0)],
        ),
        (
            "cross_entropy label smoothing",
            |v| {
                let options = CrossEntropyOptions {
                    label_smoothing: 0.2,
                };
                cross_entropy_with(&v[0], &labels(), options)
            },
            vec![input(&[3, 4], 2.0, 2.0, 0.0)],
        ),
    ]
}

#[test]
fn every_rule_passes_gradcheck() {
    let failures = support::gradcheck_failures(&table(), |_| GradcheckOptions::default());
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn every_rule_passes_gradgradcheck() {
    let failures = support::gradgradcheck_failures(&table(), |_| GradcheckOptions::default());
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn forward_mode_agrees_with_reverse_mode_for_every_rule() {
    let failures = support::forward_reverse_failures(&table(), |_| 1e-9);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn every_rule_states_its_formula() {
    let failures = support::formula_failures(&table());
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn every_node_of_every_row_replays_and_passes_its_own_check() {
    let failures = support::node_check_failures(&table(), |_| GradcheckOptions::default());
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn the_table_exercises_every_rule_the_crate_defines() {
    let exercised = support::rules_exercised(&table());
    // The rows also reach core rules; those are the core table's to cover.
    let own: std::collections::BTreeSet<&'static str> = exercised
        .into_iter()
        .filter(|r| !nabla_core::autograd::rules::all().contains(r))
        .collect();
    let gaps = support::coverage_gaps(&own, nabla_nn::RULES);
    assert!(gaps.is_empty(), "{}", gaps.join("\n"));
}

#[test]
fn every_rule_in_the_source_is_declared() {
    let source = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let undeclared = support::undeclared_rules(&source, nabla_nn::RULES);
    assert!(undeclared.is_empty(), "{}", undeclared.join("\n"));
}
