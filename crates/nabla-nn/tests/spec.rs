//! Layer specs: every layer and alias parses to its canonical text, every bad spec gets its one
//! line, the default MNIST model's summary is pinned, random valid specs round-trip through
//! their text and build networks whose output shape the summary predicts, and saved models
//! rebuild from their file.

use nabla_core::{DType, Generator, Tensor};
use nabla_nn::checkpoint::save_safetensors;
use nabla_nn::data::{Preprocess, Schema};
use nabla_nn::models::{Hidden, MlpConfig, WeightInit};
use nabla_nn::module::Module;
use nabla_nn::saved::{SavedModel, metadata};
use nabla_nn::spec::{LayerSpec, LayerSummary, ModelSpec, table, totals};
use nabla_nn::task::Task;
use proptest::prelude::*;

mod temp_dir;
use temp_dir::TempDir;

fn canonical(text: &str) -> String {
    ModelSpec::parse(text)
        .unwrap_or_else(|e| panic!("{text:?}: {e}"))
        .to_string()
}

fn parse_error(text: &str) -> String {
    ModelSpec::parse(text).unwrap_err().to_string()
}

fn summary_error(text: &str, input: &[usize], outputs: usize) -> String {
    ModelSpec::parse(text)
        .unwrap()
        .summary(input, outputs)
        .unwrap_err()
        .to_string()
}

#[test]
fn every_layer_and_alias_parses_to_its_canonical_text() {
    for (text, expected) in [
        ("flatten", "flatten"),
        ("Flatten", "flatten"),
        ("linear 256", "linear 256"),
        ("Linear", "linear"),
        ("dense 3", "linear 3"),
        ("FC 3", "linear 3"),
        ("relu", "relu"),
        ("ReLU", "relu"),
        ("leakyrelu", "leakyrelu 0.01"),
        ("LeakyReLU 0.2", "leakyrelu 0.2"),
        ("leaky_relu -0.5", "leakyrelu -0.5"),
        ("leaky-relu 1e-3", "leakyrelu 0.001"),
        ("sigmoid", "sigmoid"),
        ("Tanh", "tanh"),
        ("GELU", "gelu"),
        ("softmax", "softmax -1"),
        ("Softmax 1", "softmax 1"),
        ("dropout", "dropout 0.5"),
        ("Dropout 0.2", "dropout 0.2"),
        ("drop 0", "dropout 0"),
        ("batchnorm", "batchnorm"),
        ("BatchNorm1d 64", "batchnorm 64"),
        ("bn", "batchnorm"),
        ("batch_norm 8", "batchnorm 8"),
        ("layernorm", "layernorm"),
        ("LayerNorm 16", "layernorm 16"),
        ("ln", "layernorm"),
        ("residual(linear 64, relu)", "residual(linear 64, relu)"),
        ("Res( Linear 8 ,ReLU )", "residual(linear 8, relu)"),
        (
            "residual(residual(bn), gelu)",
            "residual(residual(batchnorm), gelu)",
        ),
    ] {
        assert_eq!(canonical(text), expected, "{text:?}");
    }
    assert_eq!(
        canonical("  flatten,linear 256 ,  relu,\tdropout 0.2, linear  "),
        "flatten, linear 256, relu, dropout 0.2, linear"
    );
}

#[test]
fn bad_specs_get_one_line_naming_the_layer() {
    for (text, expected) in [
        (
            "",
            "layer spec: the spec is empty; give layers such as \"flatten, linear 256, relu, linear\"",
        ),
        (
            "   ",
            "layer spec: the spec is empty; give layers such as \"flatten, linear 256, relu, linear\"",
        ),
        (
            "linear 64, lstmm 3",
            "layer spec: layer 1 `lstmm 3`: unknown layer \"lstmm\"; known layers: flatten, \
             linear, relu, leakyrelu, sigmoid, tanh, gelu, softmax, dropout, batchnorm, \
             layernorm, conv2d, conv1d, convtranspose2d, maxpool2d, avgpool2d, \
             adaptiveavgpool2d, gap, batchnorm2d, dropout2d, groupnorm, rows, lstm, gru, rnn, \
             embedding, residual",
        ),
        (
            "linear 64, dropout 1.5",
            "layer spec: layer 1 `dropout 1.5`: the probability must be in [0, 1), got 1.5",
        ),
        (
            "dropout -0.1",
            "layer spec: layer 0 `dropout -0.1`: the probability must be in [0, 1), got -0.1",
        ),
        (
            "dropout half",
            "layer spec: layer 0 `dropout half`: the probability must be a number, got \"half\"",
        ),
        (
            "linear 0",
            "layer spec: layer 0 `linear 0`: the size must be a whole number of at least 1, got \"0\"",
        ),
        (
            "linear -5",
            "layer spec: layer 0 `linear -5`: the size must be a whole number of at least 1, got \"-5\"",
        ),
        (
            "linear 64 32",
            "layer spec: layer 0 `linear 64 32`: takes one argument, got 2: \"64 32\"",
        ),
        (
            "relu 3",
            "layer spec: layer 0 `relu 3`: relu takes no argument, got \"3\"",
        ),
        (
            "leakyrelu inf",
            "layer spec: layer 0 `leakyrelu inf`: the negative slope must be a number, got \"inf\"",
        ),
        (
            "softmax x",
            "layer spec: layer 0 `softmax x`: the dim must be an integer, got \"x\"",
        ),
        (
            "linear 8,, relu",
            "layer spec: layer 1 is empty (two commas in a row, or one at the start or end)",
        ),
        (
            "linear 8, relu,",
            "layer spec: layer 2 is empty (two commas in a row, or one at the start or end)",
        ),
        (
            "residual(linear 8",
            "layer spec: a `(` is never closed in \"residual(linear 8\"",
        ),
        (
            "linear 8), relu",
            "layer spec: a `)` without its `(` at character 9 of \"linear 8), relu\"",
        ),
        (
            "residual()",
            "layer spec: layer 0 `residual()`: a residual block needs at least one layer inside",
        ),
        (
            "residual linear 8",
            "layer spec: layer 0 `residual linear 8`: residual takes its layers in parentheses: \
             `residual(linear 64, relu)`",
        ),
        (
            "linear(256)",
            "layer spec: layer 0 `linear(256)`: only residual takes layers in parentheses; write \
             arguments after the name, separated by spaces (`linear 256`, `dropout 0.2`)",
        ),
        (
            "residual(relu) x",
            "layer spec: layer 0 `residual(relu) x`: unexpected \"x\" after the closing parenthesis",
        ),
        (
            "relu, residual(linear 8, dropout 2)",
            "layer spec: layer 1.inner.1 `dropout 2`: the probability must be in [0, 1), got 2",
        ),
        (
            "residual(relu, foo)",
            "layer spec: layer 0.inner.1 `foo`: unknown layer \"foo\"; known layers: flatten, \
             linear, relu, leakyrelu, sigmoid, tanh, gelu, softmax, dropout, batchnorm, \
             layernorm, conv2d, conv1d, convtranspose2d, maxpool2d, avgpool2d, \
             adaptiveavgpool2d, gap, batchnorm2d, dropout2d, groupnorm, rows, lstm, gru, rnn, \
             embedding, residual",
        ),
    ] {
        assert_eq!(parse_error(text), expected, "{text:?}");
    }
    let deep = format!("{}relu{}", "residual(".repeat(40), ")".repeat(40));
    assert!(
        parse_error(&deep).ends_with("residual blocks are nested more than 16 deep"),
        "{}",
        parse_error(&deep)
    );
    let long = format!("linear {}", "9".repeat(500));
    assert!(parse_error(&long).len() < 300, "{}", parse_error(&long));
}

#[test]
fn sizes_that_do_not_chain_are_named_with_the_shapes() {
    let mnist = [1, 28, 28];
    for (text, input, expected) in [
        (
            "linear 64, batchnorm 32, relu, linear",
            &[20][..],
            "layer spec: layer 1 `batchnorm 32`: expects 32 features, but its input is [-1, 64]",
        ),
        (
            "linear 256, relu, linear",
            &mnist[..],
            "layer spec: layer 0 `linear 256`: needs flat features [-1, D], but its input is \
             [-1, 1, 28, 28]; put `flatten` before it",
        ),
        (
            "batchnorm, flatten, linear",
            &mnist[..],
            "layer spec: layer 0 `batchnorm`: needs flat features [-1, C], but its input is \
             [-1, 1, 28, 28]; put `flatten` before it",
        ),
        (
            "flatten, linear 64, relu, linear 5",
            &mnist[..],
            "layer spec: layer 3 `linear 5`: the model's output is [-1, 5], but the task has 10 \
             outputs; end with `linear`, whose size is then taken from the task",
        ),
        (
            "flatten, linear 64, relu",
            &mnist[..],
            "layer spec: layer 2 `relu`: the model's output is [-1, 64], but the task has 10 \
             outputs; end with `linear`, whose size is then taken from the task",
        ),
        (
            "flatten, linear, relu, linear",
            &mnist[..],
            "layer spec: layer 1 `linear`: needs a size; only the last linear layer takes its \
             size from the task (10 outputs)",
        ),
        (
            "flatten, linear 64, residual(linear 32), linear",
            &mnist[..],
            "layer spec: layer 2 `residual(linear 32)`: its layers map [-1, 64] to [-1, 32]; a \
             residual block must keep the shape",
        ),
        (
            "flatten, linear 64, residual(linear), linear",
            &mnist[..],
            "layer spec: layer 2.inner.0 `linear`: needs a size inside a residual block",
        ),
        (
            "layernorm 27, flatten, linear",
            &mnist[..],
            "layer spec: layer 0 `layernorm 27`: expects a last dim of 27, but its input is \
             [-1, 1, 28, 28]",
        ),
        (
            "linear, softmax 2",
            &[4][..],
            "layer spec: layer 1 `softmax 2`: dim 2 is out of range for its input [-1, 10]",
        ),
        (
            "linear 18446744073709551615, relu, linear",
            &[784][..],
            "layer spec: layer 0 `linear 18446744073709551615`: has more than 2^64 parameters",
        ),
    ] {
        assert_eq!(summary_error(text, input, 10), expected, "{text:?}");
    }
    assert_eq!(
        summary_error("linear", &[], 10),
        "layer spec: the input shape must have at least one dim and no dim of 0, got []"
    );
    assert_eq!(
        summary_error("linear", &[3], 0),
        "layer spec: the task must have at least one output, got 0"
    );
}

#[test]
fn the_default_mnist_model_has_235146_parameters_in_this_table() {
    let spec = ModelSpec::mlp(&[256, 128], Hidden::Relu, false, 0.0, 3);
    assert_eq!(
        spec.to_string(),
        "flatten, linear 256, relu, linear 128, relu, linear"
    );
    let rows = spec.summary(&[1, 28, 28], 10).unwrap();
    assert_eq!(totals(&rows), (235_146, 0));
    assert_eq!(
        table(&[1, 28, 28], &rows),
        "\
Input shape: [-1, 1, 28, 28]
Layer                                Output shape  Param #
==========================================================
0  Flatten(start_dim=1, end_dim=-1)  [-1, 784]           0
1  Linear(784 -> 256)                [-1, 256]     200,960
2  ReLU                              [-1, 256]           0
3  Linear(256 -> 128)                [-1, 128]      32,896
4  ReLU                              [-1, 128]           0
5  Linear(128 -> 10)                 [-1, 10]        1,290
==========================================================
Total params: 235,146
Trainable params: 235,146
Non-trainable params: 0
"
    );
}

#[test]
fn batch_norm_statistics_are_non_trainable_and_residual_rows_nest() {
    let spec =
        ModelSpec::parse("linear 4, bn, relu, residual(linear 4, ln, tanh), linear").unwrap();
    let rows = spec.summary(&[3], 2).unwrap();
    let names: Vec<&str> = rows.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "0",
            "1",
            "2",
            "3",
            "3.inner.0",
            "3.inner.1",
            "3.inner.2",
            "4"
        ]
    );
    // Linear 3·4+4, BatchNorm 2·4 (+ 2·4 statistics), block: Linear 4·4+4 and LayerNorm 2·4,
    // Linear 4·2+2.
    assert_eq!(rows[3].parameters, 28);
    assert_eq!(totals(&rows), (16 + 8 + 28 + 10, 8));
    let text = table(&[3], &rows);
    assert!(text.contains("\n3  Residual "), "{text}");
    assert!(text.contains("\n  3.inner.0  Linear(4 -> 4) "), "{text}");
    assert!(text.contains("Non-trainable params: 8\n"), "{text}");
}

#[test]
fn mlp_config_builds_the_spec_of_its_flags_weight_for_weight() {
    let config = MlpConfig {
        input: 12,
        hidden: vec![6, 5],
        outputs: 3,
        activation: Hidden::Tanh,
        init: WeightInit::He,
        batch_norm: true,
        dropout: 0.25,
    };
    let net = config.build(DType::F64, &mut Generator::new(9)).unwrap();
    let too_much = MlpConfig {
        dropout: 1.5,
        ..config.clone()
    };
    assert_eq!(
        too_much
            .build(DType::F64, &mut Generator::new(9))
            .err()
            .unwrap()
            .to_string(),
        "layer spec: layer 3 `dropout 1.5`: the probability must be in [0, 1), got 1.5"
    );
    let spec = ModelSpec::mlp(&[6, 5], Hidden::Tanh, true, 0.25, 1);
    let same = spec
        .build(&[12], 3, WeightInit::He, DType::F64, &mut Generator::new(9))
        .unwrap();
    for ((name, a), (_, b)) in net.state_dict().iter().zip(same.state_dict()) {
        assert_eq!(a.to_f64_vec(), b.to_f64_vec(), "{name}");
    }
    // He for tanh: std 5/3/√fan_in for every layer, the last one included.
    let w = &net.named_parameters()[0].1;
    let std = (w.to_f64_vec().iter().map(|v| v * v).sum::<f64>() / 72.0).sqrt();
    assert!(
        (std / (5.0 / 3.0 / 12f64.sqrt()) - 1.0).abs() < 0.4,
        "{std}"
    );
    let images = ModelSpec::mlp(&[8], Hidden::Relu, false, 0.0, 3)
        .build(
            &[1, 4, 4],
            10,
            WeightInit::He,
            DType::F32,
            &mut Generator::new(0),
        )
        .unwrap();
    let names: Vec<String> = images.state_dict().into_iter().map(|(n, _)| n).collect();
    assert_eq!(names, ["1.weight", "1.bias", "3.weight", "3.bias"]);
}

/// A random layer with valid arguments for flat features; residual blocks up to `depth` deep.
/// [`fitted`] then makes the sizes chain.
fn layer(depth: u32) -> BoxedStrategy<LayerSpec> {
    let leaf = prop_oneof![
        Just(LayerSpec::ReLU),
        Just(LayerSpec::Sigmoid),
        Just(LayerSpec::Tanh),
        Just(LayerSpec::GELU),
        Just(LayerSpec::Flatten),
        (-3.0f64..3.0).prop_map(|s| LayerSpec::LeakyReLU { negative_slope: s }),
        (-2isize..2).prop_map(|dim| LayerSpec::Softmax { dim }),
        (0.0f64..0.99).prop_map(|p| LayerSpec::Dropout { p }),
        Just(LayerSpec::BatchNorm { num_features: None }),
        Just(LayerSpec::LayerNorm { features: None }),
        (1usize..6).prop_map(|n| LayerSpec::Linear {
            out_features: Some(n)
        }),
    ];
    if depth == 0 {
        return leaf.boxed();
    }
    prop_oneof![
        4 => leaf,
        1 => prop::collection::vec(layer(depth - 1), 1..4)
            .prop_map(|inner| LayerSpec::Residual(ModelSpec::new(inner).unwrap())),
    ]
    .boxed()
}

/// Sizes filled in to fit `width`: residual blocks end where they started (a trailing linear
/// layer of the entry width when they change it), sized norms get the width they see.
fn fitted(layers: &[LayerSpec], width: &mut usize) -> Vec<LayerSpec> {
    let mut out = Vec::new();
    for layer in layers {
        out.push(match layer {
            LayerSpec::Linear { out_features } => {
                *width = out_features.expect("random linear layers are sized");
                layer.clone()
            }
            LayerSpec::Residual(inner) => {
                let entry = *width;
                let mut inner = fitted(inner.layers(), width);
                if *width != entry {
                    inner.push(LayerSpec::Linear {
                        out_features: Some(entry),
                    });
                    *width = entry;
                }
                LayerSpec::Residual(ModelSpec::new(inner).unwrap())
            }
            LayerSpec::BatchNorm { .. } => LayerSpec::BatchNorm {
                num_features: Some(*width),
            },
            other => other.clone(),
        });
    }
    out
}

fn leaves(module: &dyn Module, rows: &mut Vec<String>) {
    let children = module.children();
    if children.is_empty() {
        rows.push(module.describe());
    }
    for (_, child) in children {
        leaves(child, rows);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn valid_specs_round_trip_and_build_what_the_summary_says(
        layers in prop::collection::vec(layer(2), 0..6),
        width in 1usize..5,
        outputs in 1usize..4,
        batch in 2usize..4,
    ) {
        let mut w = width;
        let mut layers = fitted(&layers, &mut w);
        layers.push(LayerSpec::Linear { out_features: None });
        let spec = ModelSpec::new(layers).unwrap();
        let text = spec.to_string();
        prop_assert_eq!(&ModelSpec::parse(&text).unwrap(), &spec);
        prop_assert_eq!(ModelSpec::parse(&text.to_uppercase()).unwrap(), spec.clone());
        let json = serde_json::to_string(&spec).unwrap();
        prop_assert_eq!(serde_json::from_str::<ModelSpec>(&json).unwrap(), spec.clone());

        let rows: Vec<LayerSummary> = spec.summary(&[width], outputs).unwrap();
        let net = spec
            .build(&[width], outputs, WeightInit::He, DType::F64, &mut Generator::new(1))
            .unwrap();
        let y = net.forward(&Tensor::ones(&[batch, width], DType::F64));
        let mut expected = vec![batch];
        expected.extend(&rows.iter().rfind(|r| r.is_top_level()).unwrap().output_shape);
        prop_assert_eq!(y.shape(), &expected[..]);
        let built: usize = net.parameters().iter().map(Tensor::numel).sum();
        prop_assert_eq!(built, totals(&rows).0);
        let mut described = Vec::new();
        leaves(&net, &mut described);
        let summarised: Vec<String> =
            rows.iter().filter(|r| r.layer != "Residual").map(|r| r.layer.clone()).collect();
        prop_assert_eq!(described, summarised);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    /// Any text is parsed or refused with one line, never a panic; what parses round-trips.
    #[test]
    fn any_text_parses_or_is_refused_in_one_line(
        words in prop::collection::vec(
            prop::sample::select(vec![
                "linear", "relu", "bn", "residual(", "res(", ")", "(", ",", " ", "dropout",
                "0.5", "1.5", "-1", "64", "0", "flatten", "softmax", "leakyrelu", "ln", "x",
                "1e400", "NaN", "é",
            ]),
            0..24,
        ),
    ) {
        let text: String = words.concat();
        match ModelSpec::parse(&text) {
            Ok(spec) => prop_assert_eq!(ModelSpec::parse(&spec.to_string()).unwrap(), spec),
            Err(e) => {
                let message = e.to_string();
                prop_assert!(message.starts_with("layer spec: ") && !message.contains('\n'));
            }
        }
    }
}

fn schema() -> Schema {
    Schema {
        input_shape: vec![1, 3, 3],
        task: Task::classes(4),
        preprocess: Preprocess::Image {
            mean: vec![0.5],
            std: vec![0.25],
            resize: None,
        },
    }
}

#[test]
fn saved_models_rebuild_from_model_and_checkpoint_files() {
    let spec = ModelSpec::parse("flatten, linear 5, bn, relu, dropout 0.3, linear").unwrap();
    let net = spec
        .build(
            &[1, 3, 3],
            4,
            WeightInit::He,
            DType::F32,
            &mut Generator::new(3),
        )
        .unwrap();
    net.forward(&Tensor::ones(&[2, 1, 3, 3], DType::F32));
    let x = Tensor::from_vec((0..18).map(|i| i as f32 / 9.0).collect(), &[2, 1, 3, 3]);
    let mut eval = spec
        .build(
            &[1, 3, 3],
            4,
            WeightInit::He,
            DType::F32,
            &mut Generator::new(3),
        )
        .unwrap();
    eval.load_state_dict(&net.state_dict()).unwrap();
    eval.set_training(false);
    let expected = eval.forward(&x).to_vec::<f32>();

    let dir = TempDir::new("saved-models");
    let model = dir.path("model.safetensors");
    save_safetensors(&model, &net.state_dict(), &metadata(&spec, &schema())).unwrap();
    let saved = SavedModel::load(&model).unwrap();
    assert_eq!(saved.spec, spec);
    assert_eq!(saved.schema, schema());
    assert_eq!(saved.net.forward(&x).to_vec::<f32>(), expected);

    let checkpoint = dir.path("checkpoint.safetensors");
    let mut tensors: Vec<(String, Tensor)> = net
        .state_dict()
        .into_iter()
        .map(|(n, t)| (format!("model.{n}"), t))
        .collect();
    tensors.push(("optimizer.step".into(), Tensor::scalar(3i64)));
    save_safetensors(&checkpoint, &tensors, &metadata(&spec, &schema())).unwrap();
    let saved = SavedModel::load(&checkpoint).unwrap();
    assert_eq!(saved.net.forward(&x).to_vec::<f32>(), expected);
}

#[test]
fn saved_files_without_the_metadata_or_with_other_weights_are_refused() {
    let spec = ModelSpec::parse("flatten, linear 5, relu, linear").unwrap();
    let net = spec
        .build(
            &[1, 3, 3],
            4,
            WeightInit::He,
            DType::F32,
            &mut Generator::new(3),
        )
        .unwrap();
    let dir = TempDir::new("refused");
    let file = dir.path("refused.safetensors");
    let path = file.display().to_string();
    let load_error = |tensors: &[(String, Tensor)], meta: &nabla_nn::checkpoint::Metadata| {
        save_safetensors(&file, tensors, meta).unwrap();
        SavedModel::load(&file).err().unwrap().to_string()
    };
    let state = net.state_dict();
    assert_eq!(
        load_error(&state, &Default::default()),
        format!(
            "{path}: no \"layers\" in the file's metadata, so the model cannot be rebuilt from it \
             (it was not saved by a training run of this version of nabla)"
        )
    );
    let mut meta = metadata(&spec, &schema());
    meta.remove("schema");
    assert!(load_error(&state, &meta).starts_with(&format!("{path}: no \"schema\"")));
    let mut meta = metadata(&spec, &schema());
    meta.insert("layers".into(), "flatten, conv 3".into());
    assert_eq!(
        load_error(&state, &meta),
        format!(
            "{path}: the \"layers\" metadata: layer spec: layer 1 `conv 3`: takes the output \
             channels and the kernel size, then options: `conv2d 32 3`"
        )
    );
    let mut meta = metadata(&spec, &schema());
    meta.insert("schema".into(), "{\"input_shape\":[9]}".into());
    assert!(load_error(&state, &meta).starts_with(&format!(
        "{path}: the \"schema\" metadata is not a valid schema: "
    )));
    let other = metadata(
        &ModelSpec::parse("flatten, linear 6, relu, linear").unwrap(),
        &schema(),
    );
    assert_eq!(
        load_error(&state, &other),
        format!(
            "{path}: the weights do not fit the layers \"flatten, linear 6, relu, linear\": they \
             need 88 numbers, the file holds 74"
        )
    );
    // The right count under other names.
    let renamed: Vec<(String, Tensor)> = state
        .iter()
        .map(|(n, t)| (n.replace("3.", "4."), t.clone()))
        .collect();
    assert_eq!(
        load_error(&renamed, &metadata(&spec, &schema())),
        format!(
            "{path}: the weights do not fit the layers \"flatten, linear 5, relu, linear\": \
             load_state_dict: missing keys [\"3.weight\", \"3.bias\"]; unexpected keys \
             [\"4.bias\", \"4.weight\"]"
        )
    );
}

// ---- Convolutional layers ----------------------------------------------------------------

#[test]
fn conv_and_pool_layers_parse_to_their_canonical_text_and_back() {
    for (text, expected) in [
        (
            "conv2d 32 3",
            "conv2d 32 3 stride=1 padding=0 dilation=1 groups=1 bias=true",
        ),
        (
            "Conv 8 3x5 stride=2 padding=1x2 dilation=2 groups=2 bias=false",
            "conv2d 8 3x5 stride=2 padding=1x2 dilation=2 groups=2 bias=false",
        ),
        (
            "Conv2d 4 3 padding=SAME",
            "conv2d 4 3 stride=1 padding=same dilation=1 groups=1 bias=true",
        ),
        (
            "conv1d 16 5 stride=2",
            "conv1d 16 5 stride=2 padding=0 dilation=1 groups=1 bias=true",
        ),
        (
            "ConvTranspose2d 8 2 stride=2",
            "convtranspose2d 8 2 stride=2 padding=0 output_padding=0 dilation=1 groups=1 bias=true",
        ),
        (
            "conv_transpose2d 8 3 stride=2 padding=1 output_padding=1",
            "convtranspose2d 8 3 stride=2 padding=1 output_padding=1 dilation=1 groups=1 bias=true",
        ),
        ("maxpool2d 2", "maxpool2d 2 stride=2 padding=0"),
        (
            "MaxPool 3 stride=2 padding=1",
            "maxpool2d 3 stride=2 padding=1",
        ),
        ("pool 2x3", "maxpool2d 2x3 stride=2x3 padding=0"),
        ("avgpool 2 stride=1", "avgpool2d 2 stride=1 padding=0"),
        ("AvgPool2d 2", "avgpool2d 2 stride=2 padding=0"),
        ("adaptiveavgpool2d 7", "adaptiveavgpool2d 7"),
        ("AdaptiveAvgPool2d 2x3", "adaptiveavgpool2d 2x3"),
        ("gap", "adaptiveavgpool2d 1"),
        ("batchnorm2d", "batchnorm2d"),
        ("BN2d 32", "batchnorm2d 32"),
        ("dropout2d", "dropout2d 0.5"),
        ("Dropout2d 0.1", "dropout2d 0.1"),
        ("groupnorm 8", "groupnorm 8"),
        ("GroupNorm 4 32", "groupnorm 4 32"),
        ("gn 2", "groupnorm 2"),
    ] {
        assert_eq!(canonical(text), expected, "{text:?}");
        assert_eq!(canonical(expected), expected, "{expected:?}");
    }
    assert_eq!(
        nabla_nn::models::cnn().to_string(),
        "conv2d 32 3 stride=1 padding=0 dilation=1 groups=1 bias=true, relu, maxpool2d 2 stride=2 \
         padding=0, conv2d 64 3 stride=1 padding=0 dilation=1 groups=1 bias=true, relu, \
         maxpool2d 2 stride=2 padding=0, flatten, linear 128, relu, linear"
    );
}

#[test]
fn bad_conv_and_pool_specs_name_the_layer_and_the_argument() {
    for (text, expected) in [
        (
            "conv2d 32",
            "layer 0 `conv2d 32`: takes the output channels and the kernel size, then options: \
             `conv2d 32 3`",
        ),
        (
            "conv2d 0 3",
            "layer 0 `conv2d 0 3`: the number of output channels must be a whole number of at \
             least 1, got \"0\"",
        ),
        (
            "conv2d 8 0",
            "layer 0 `conv2d 8 0`: the kernel size must be written K or KHxKW with whole numbers \
             of at least 1, got \"0\"",
        ),
        (
            "conv2d 8 3x3x3",
            "layer 0 `conv2d 8 3x3x3`: the kernel size must be written K or KHxKW with whole \
             numbers of at least 1, got \"3x3x3\"",
        ),
        (
            "conv1d 8 3x3",
            "layer 0 `conv1d 8 3x3`: the kernel size must be written K with whole numbers of at \
             least 1, got \"3x3\"",
        ),
        (
            "conv2d 8 3 stride=x",
            "layer 0 `conv2d 8 3 stride=x`: the stride must be written K or KHxKW with whole \
             numbers of at least 1, got \"x\"",
        ),
        (
            "maxpool2d 2 padding=-1",
            "layer 0 `maxpool2d 2 padding=-1`: the padding must be written K or KHxKW with whole \
             numbers of at least 0, got \"-1\"",
        ),
        (
            "conv2d 8 3 strides=2",
            "layer 0 `conv2d 8 3 strides=2`: unknown option \"strides\"; options: stride, \
             padding, dilation, groups, bias",
        ),
        (
            "conv2d 8 3 stride=2 stride=1",
            "layer 0 `conv2d 8 3 stride=2 stride=1`: the option stride is given twice",
        ),
        (
            "conv2d 8 3 bias=no",
            "layer 0 `conv2d 8 3 bias=no`: bias must be true or false, got \"no\"",
        ),
        (
            "conv2d 8 3 padding=same stride=2",
            "layer 0 `conv2d 8 3 stride=2 padding=same dilation=1 groups=1 bias=true`: \
             padding=same needs stride 1, got stride 2x2",
        ),
        (
            "conv2d 6 3 groups=4",
            "layer 0 `conv2d 6 3 stride=1 padding=0 dilation=1 groups=4 bias=true`: \
             out_channels (6) must be divisible by groups (4)",
        ),
        (
            "convtranspose2d 8 3 stride=2 output_padding=2",
            "layer 0 `convtranspose2d 8 3 stride=2 padding=0 output_padding=2 dilation=1 \
             groups=1 bias=true`: the output padding (2x2) must be smaller than the stride (2x2) \
             or the dilation (1x1)",
        ),
        (
            "maxpool2d",
            "layer 0 `maxpool2d`: takes the kernel size, then options: `maxpool2d 2` or \
             `maxpool2d 3 stride=2 padding=1`",
        ),
        (
            "maxpool2d 2 padding=2",
            "layer 0 `maxpool2d 2 stride=2 padding=2`: the padding (2x2) must be at most half \
             the kernel size (2x2)",
        ),
        (
            "avgpool2d 2 dilation=2",
            "layer 0 `avgpool2d 2 dilation=2`: unknown option \"dilation\"; options: stride, \
             padding",
        ),
        (
            "adaptiveavgpool2d",
            "layer 0 `adaptiveavgpool2d`: takes the output size: `adaptiveavgpool2d 1` or \
             `adaptiveavgpool2d 7x7`",
        ),
        (
            "gap 2",
            "layer 0 `gap 2`: adaptiveavgpool2d takes no argument, got \"2\"",
        ),
        (
            "dropout2d 1",
            "layer 0 `dropout2d 1`: the probability must be in [0, 1), got 1",
        ),
        (
            "groupnorm",
            "layer 0 `groupnorm`: takes the number of groups and optionally of channels: \
             `groupnorm 8`",
        ),
        (
            "groupnorm 3 8",
            "layer 0 `groupnorm 3 8`: the channels (8) must be a multiple of the groups (3)",
        ),
        (
            "batchnorm2d 0",
            "layer 0 `batchnorm2d 0`: the size must be a whole number of at least 1, got \"0\"",
        ),
    ] {
        assert_eq!(
            parse_error(text),
            format!("layer spec: {expected}"),
            "{text:?}"
        );
    }
}

#[test]
fn conv_shapes_that_do_not_fit_are_named_with_the_shapes() {
    for (text, input, expected) in [
        (
            "conv2d 8 3, linear",
            &[784][..],
            "layer 0 `conv2d 8 3 stride=1 padding=0 dilation=1 groups=1 bias=true`: needs images \
             [-1, C, H, W], but its input is [-1, 784]",
        ),
        (
            "conv1d 8 3, flatten, linear",
            &[1, 28, 28],
            "layer 0 `conv1d 8 3 stride=1 padding=0 dilation=1 groups=1 bias=true`: needs \
             sequences [-1, C, L], but its input is [-1, 1, 28, 28]",
        ),
        (
            "conv2d 8 5, maxpool2d 2, conv2d 8 3, flatten, linear",
            &[1, 8, 8],
            "layer 2 `conv2d 8 3 stride=1 padding=0 dilation=1 groups=1 bias=true`: the 3x3 \
             window (dilation 1x1, padding 0x0) does not fit its input [-1, 8, 2, 2]",
        ),
        (
            "conv2d 8 3 groups=2, flatten, linear",
            &[3, 8, 8],
            "layer 0 `conv2d 8 3 stride=1 padding=0 dilation=1 groups=2 bias=true`: its input \
             [-1, 3, 8, 8] has 3 channels, not a multiple of groups=2",
        ),
        (
            "maxpool2d 4, flatten, linear",
            &[1, 3, 8],
            "layer 0 `maxpool2d 4 stride=4 padding=0`: the 4x4 window (padding 0x0) does not fit \
             its input [-1, 1, 3, 8]",
        ),
        (
            "flatten, maxpool2d 2, linear",
            &[1, 4, 4],
            "layer 1 `maxpool2d 2 stride=2 padding=0`: needs images [-1, C, H, W], but its input \
             is [-1, 16]",
        ),
        (
            "batchnorm2d 3, flatten, linear",
            &[1, 4, 4],
            "layer 0 `batchnorm2d 3`: expects 3 channels, but its input is [-1, 1, 4, 4]",
        ),
        (
            "groupnorm 2, flatten, linear",
            &[3, 4, 4],
            "layer 0 `groupnorm 2`: its input [-1, 3, 4, 4] has 3 channels, not a multiple of \
             the 2 groups",
        ),
        (
            "dropout2d, linear",
            &[10],
            "layer 0 `dropout2d 0.5`: needs [-1, C, H, W] or [-1, C, L], but its input is [-1, 10]",
        ),
        (
            "conv2d 8 3, relu, linear",
            &[1, 5, 5],
            "layer 2 `linear`: needs flat features [-1, D], but its input is [-1, 8, 3, 3]; put \
             `flatten` before it",
        ),
        (
            "convtranspose2d 4 1 padding=1, flatten, linear",
            &[2, 1, 1],
            "layer 0 `convtranspose2d 4 1 stride=1 padding=1 output_padding=0 dilation=1 \
             groups=1 bias=true`: the padding 1 leaves no output for its input [-1, 2, 1, 1]",
        ),
        (
            "conv2d 8 5000000000000000000 dilation=4, flatten, linear",
            &[1, 28, 28],
            "layer 0 `conv2d 8 5000000000000000000 stride=1 padding=0 dilation=4 groups=1 \
             bias=true`: the 5000000000000000000x5000000000000000000 window (dilation 4x4, \
             padding 0x0) does not fit its input [-1, 1, 28, 28]",
        ),
        (
            "conv2d 8 3 padding=18446744073709551615, flatten, linear",
            &[1, 28, 28],
            "layer 1 `flatten`: has more than 2^64 features",
        ),
        (
            "convtranspose2d 8 4 stride=9223372036854775807, flatten, linear",
            &[1, 28, 28],
            "layer 0 `convtranspose2d 8 4 stride=9223372036854775807 padding=0 output_padding=0 \
             dilation=1 groups=1 bias=true`: the output would have more than 2^64 elements along \
             a dim for its input [-1, 1, 28, 28]",
        ),
    ] {
        assert_eq!(
            summary_error(text, input, 10),
            format!("layer spec: {expected}"),
            "{text:?}"
        );
    }
}

#[test]
fn the_cnn_has_225034_parameters_in_this_table() {
    let rows = nabla_nn::models::cnn().summary(&[1, 28, 28], 10).unwrap();
    assert_eq!(totals(&rows), (225_034, 0));
    assert_eq!(
        table(&[1, 28, 28], &rows),
        "\
Input shape: [-1, 1, 28, 28]
Layer                                Output shape      Param #
==============================================================
0  Conv2d(1 -> 32, 3x3)              [-1, 32, 26, 26]      320
1  ReLU                              [-1, 32, 26, 26]        0
2  MaxPool2d(2x2)                    [-1, 32, 13, 13]        0
3  Conv2d(32 -> 64, 3x3)             [-1, 64, 11, 11]   18,496
4  ReLU                              [-1, 64, 11, 11]        0
5  MaxPool2d(2x2)                    [-1, 64, 5, 5]          0
6  Flatten(start_dim=1, end_dim=-1)  [-1, 1600]              0
7  Linear(1600 -> 128)               [-1, 128]         204,928
8  ReLU                              [-1, 128]               0
9  Linear(128 -> 10)                 [-1, 10]            1,290
==============================================================
Total params: 225,034
Trainable params: 225,034
Non-trainable params: 0
"
    );
    // Any image size: a 3-channel 32x32 input flattens to 64·6·6.
    let rows = nabla_nn::models::cnn().summary(&[3, 32, 32], 10).unwrap();
    assert_eq!(rows[7].layer, "Linear(2304 -> 128)");
}

/// Every layer's output shape and parameter count in the summary is what the built network
/// gives and holds.
#[test]
fn conv_specs_build_what_the_summary_says() {
    let spec = ModelSpec::parse(
        "conv2d 6 3 padding=same, bn2d, relu, dropout2d 0.2, maxpool2d 3 stride=2 padding=1, \
         conv2d 8 3x1 stride=2 dilation=2 groups=2 bias=false, groupnorm 4, avgpool2d 2 stride=1, \
         convtranspose2d 4 3 stride=2 padding=1 output_padding=1, gap, flatten, linear 7, gelu, \
         linear",
    )
    .unwrap();
    let input = [2, 17, 13];
    let rows = spec.summary(&input, 3).unwrap();
    let layers: Vec<&str> = rows.iter().map(|r| r.layer.as_str()).collect();
    assert_eq!(
        layers,
        [
            "Conv2d(2 -> 6, 3x3, padding=same)",
            "BatchNorm2d(6, eps=0.00001, momentum=0.1)",
            "ReLU",
            "Dropout2d(p=0.2)",
            "MaxPool2d(3x3, stride=2x2, padding=1x1)",
            "Conv2d(6 -> 8, 3x1, stride=2x2, dilation=2x2, groups=2, bias=false)",
            "GroupNorm(4, 8, eps=0.00001, affine=true)",
            "AvgPool2d(2x2, stride=1x1)",
            "ConvTranspose2d(8 -> 4, 3x3, stride=2x2, padding=1x1, output_padding=1x1)",
            "AdaptiveAvgPool2d(1x1)",
            "Flatten(start_dim=1, end_dim=-1)",
            "Linear(4 -> 7)",
            "GELU",
            "Linear(7 -> 3)",
        ]
    );
    let mut net = spec
        .build(
            &input,
            3,
            WeightInit::He,
            DType::F64,
            &mut Generator::new(1),
        )
        .unwrap();
    net.set_training(false);
    let trace = net
        .forward_trace(&Tensor::ones(&[2, 2, 17, 13], DType::F64))
        .unwrap();
    for (row, (output, layer)) in rows.iter().zip(trace.iter().zip(net.layers())) {
        assert_eq!(&output.shape()[1..], &row.output_shape[..], "{}", row.layer);
        assert_eq!(layer.describe(), row.layer);
        let held: usize = layer.parameters().iter().map(Tensor::numel).sum();
        assert_eq!(held, row.parameters, "{}", row.layer);
    }
    let names: Vec<String> = net.named_parameters().into_iter().map(|(n, _)| n).collect();
    assert_eq!(
        names,
        [
            "0.weight",
            "0.bias",
            "1.weight",
            "1.bias",
            "5.weight",
            "6.weight",
            "6.bias",
            "8.weight",
            "8.bias",
            "11.weight",
            "11.bias",
            "13.weight",
            "13.bias"
        ]
    );
    assert_eq!(net.named_parameters()[4].1.shape(), &[8, 3, 3, 1]);
    assert_eq!(net.named_parameters()[7].1.shape(), &[8, 4, 3, 3]);
}

#[test]
fn he_init_of_a_spec_conv_uses_the_conv_fan_in() {
    let spec = ModelSpec::parse("conv2d 64 3, relu, flatten, linear").unwrap();
    let net = spec
        .build(
            &[32, 3, 3],
            2,
            WeightInit::He,
            DType::F64,
            &mut Generator::new(5),
        )
        .unwrap();
    let state = net.state_dict();
    let weight = state[0].1.to_vec::<f64>();
    let std = (weight.iter().map(|v| v * v).sum::<f64>() / weight.len() as f64).sqrt();
    // fan_in = 32·3·3 = 288, ReLU's gain √2: σ = √(2/288) = 1/12 (18,432 draws: ±1.5%).
    assert!((std * 12.0 - 1.0).abs() < 0.03, "{std}");
    assert_eq!(state[1].1.to_vec::<f64>(), vec![0.0; 64]);
}

#[test]
fn a_saved_cnn_rebuilds_from_its_file() {
    let spec = ModelSpec::parse(
        "conv2d 4 3 padding=1, batchnorm2d, relu, maxpool2d 2, dropout2d 0.1, flatten, linear",
    )
    .unwrap();
    let schema = Schema {
        input_shape: vec![1, 6, 6],
        task: Task::classes(3),
        preprocess: Preprocess::Image {
            mean: vec![0.5],
            std: vec![0.25],
            resize: None,
        },
    };
    let net = spec
        .build(
            &[1, 6, 6],
            3,
            WeightInit::Default,
            DType::F64,
            &mut Generator::new(9),
        )
        .unwrap();
    let x = Tensor::from_vec(
        (0..72).map(|i| (i as f64 * 0.3).sin()).collect(),
        &[2, 1, 6, 6],
    );
    net.forward(&x);
    let dir = TempDir::new("saved-cnn");
    let path = dir.path("model.safetensors");
    save_safetensors(&path, &net.state_dict(), &metadata(&spec, &schema)).unwrap();
    let saved = SavedModel::load(&path).unwrap();
    assert_eq!(saved.spec, spec);
    let mut net = net;
    net.set_training(false);
    assert_eq!(
        saved.net.forward(&x).to_vec::<f64>(),
        net.forward(&x).to_vec::<f64>()
    );
    let names: Vec<String> = saved.net.state_dict().into_iter().map(|(n, _)| n).collect();
    assert_eq!(
        names,
        [
            "0.weight",
            "0.bias",
            "1.weight",
            "1.bias",
            "1.running_mean",
            "1.running_var",
            "1.num_batches_tracked",
            "6.weight",
            "6.bias"
        ]
    );
}

/// One image layer of a random convolutional spec, as text (some do not fit their input).
fn image_layer() -> BoxedStrategy<String> {
    prop_oneof![
        (
            1usize..5,
            1usize..4,
            1usize..3,
            0usize..3,
            1usize..3,
            1usize..3,
            any::<bool>()
        )
            .prop_map(|(out, k, stride, padding, dilation, groups, bias)| format!(
                "conv2d {out} {k} stride={stride} padding={padding} dilation={dilation} \
                 groups={groups} bias={bias}"
            )),
        (1usize..5, 1usize..4, 1usize..3).prop_map(|(out, k, d)| format!(
            "conv2d {out} {k}x{} padding=same dilation={d}",
            k + 1
        )),
        (1usize..4, 1usize..3, 0usize..2)
            .prop_map(|(k, s, p)| format!("maxpool2d {k} stride={s} padding={}", p.min(k / 2))),
        (1usize..4, 1usize..3).prop_map(|(k, s)| format!("avgpool2d {k} stride={s}")),
        (1usize..3, 1usize..3).prop_map(|(h, w)| format!("adaptiveavgpool2d {h}x{w}")),
        (1usize..4, 1usize..3, 0usize..2).prop_map(|(out, k, p)| format!(
            "convtranspose2d {out} {k} stride=2 padding={p} output_padding=1"
        )),
        Just("batchnorm2d".to_string()),
        Just("groupnorm 1".to_string()),
        Just("dropout2d 0.3".to_string()),
        Just("relu".to_string()),
    ]
    .boxed()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    /// Random convolutional specs on random image sizes: refused in one line naming a layer,
    /// or built into a network whose every layer gives the shape, parameters and description
    /// the summary predicts; their text round-trips.
    #[test]
    fn conv_specs_are_refused_in_one_line_or_build_what_the_summary_says(
        layers in prop::collection::vec(image_layer(), 1..5),
        input in (1usize..4, 1usize..10, 1usize..10),
    ) {
        let text = format!("{}, flatten, linear", layers.join(", "));
        let input = [input.0, input.1, input.2];
        let spec = match ModelSpec::parse(&text) {
            Ok(spec) => spec,
            Err(e) => {
                let message = e.to_string();
                prop_assert!(message.starts_with("layer spec: layer ") && !message.contains('\n'));
                return Ok(());
            }
        };
        prop_assert_eq!(&ModelSpec::parse(&spec.to_string()).unwrap(), &spec);
        let rows = match spec.summary(&input, 2) {
            Ok(rows) => rows,
            Err(e) => {
                let message = e.to_string();
                prop_assert!(message.starts_with("layer spec: layer ") && !message.contains('\n'));
                prop_assert!(
                    message.contains("its input") || message.contains("input is"),
                    "{}", message
                );
                return Ok(());
            }
        };
        let mut net = spec
            .build(&input, 2, WeightInit::Default, DType::F64, &mut Generator::new(2))
            .unwrap();
        net.set_training(false);
        let trace = net.forward_trace(&Tensor::ones(&[2, input[0], input[1], input[2]], DType::F64)).unwrap();
        for (row, (output, layer)) in rows.iter().zip(trace.iter().zip(net.layers())) {
            prop_assert_eq!(&output.shape()[1..], &row.output_shape[..]);
            prop_assert_eq!(layer.describe(), row.layer.clone());
            let held: usize = layer.parameters().iter().map(Tensor::numel).sum();
            prop_assert_eq!(held, row.parameters);
        }
    }
}

// ---- Recurrent layers ----------------------------------------------------------------------

#[test]
fn recurrent_layers_parse_to_their_canonical_text_and_back() {
    for (text, expected) in [
        ("rows", "rows"),
        (
            "lstm 128",
            "lstm 128 layers=1 bidirectional=false dropout=0 sequence=false",
        ),
        (
            "LSTM 64 layers=2 bidirectional=TRUE dropout=0.25 sequence=true",
            "lstm 64 layers=2 bidirectional=true dropout=0.25 sequence=true",
        ),
        (
            "gru 32 bidirectional=true",
            "gru 32 layers=1 bidirectional=true dropout=0 sequence=false",
        ),
        (
            "rnn 16",
            "rnn 16 nonlinearity=tanh layers=1 bidirectional=false dropout=0 sequence=false",
        ),
        (
            "RNN 16 nonlinearity=ReLU layers=3",
            "rnn 16 nonlinearity=relu layers=3 bidirectional=false dropout=0 sequence=false",
        ),
        ("embedding 1000 64", "embedding 1000 64"),
        (
            "Embedding 10 3 padding_idx=0",
            "embedding 10 3 padding_idx=0",
        ),
    ] {
        assert_eq!(canonical(text), expected, "{text:?}");
        assert_eq!(canonical(expected), expected, "{expected:?}");
    }
}

#[test]
fn bad_recurrent_specs_name_the_layer_and_the_argument() {
    for (text, expected) in [
        (
            "lstm",
            "layer 0 `lstm`: takes the hidden size, then options: `lstm 128` or `lstm 128 \
             layers=2 bidirectional=true`",
        ),
        (
            "gru 0",
            "layer 0 `gru 0`: the hidden size must be a whole number of at least 1, got \"0\"",
        ),
        (
            "lstm 128 layers=0",
            "layer 0 `lstm 128 layers=0`: the number of layers must be a whole number of at \
             least 1, got \"0\"",
        ),
        (
            "lstm 128 dropout=1",
            "layer 0 `lstm 128 dropout=1`: the dropout probability must be a number in [0, 1), \
             got \"1\"",
        ),
        (
            "lstm 128 bidirectional=yes",
            "layer 0 `lstm 128 bidirectional=yes`: bidirectional must be true or false, got \
             \"yes\"",
        ),
        (
            "gru 8 sequence=1",
            "layer 0 `gru 8 sequence=1`: sequence must be true or false, got \"1\"",
        ),
        (
            "lstm 128 nonlinearity=relu",
            "layer 0 `lstm 128 nonlinearity=relu`: unknown option \"nonlinearity\"; options: \
             layers, bidirectional, dropout, sequence",
        ),
        (
            "rnn 8 nonlinearity=sigmoid",
            "layer 0 `rnn 8 nonlinearity=sigmoid`: the nonlinearity must be tanh or relu, got \
             \"sigmoid\"",
        ),
        (
            "rnn 8 hidden=3",
            "layer 0 `rnn 8 hidden=3`: unknown option \"hidden\"; options: layers, \
             bidirectional, dropout, sequence, nonlinearity",
        ),
        (
            "lstm 8 layers=2 layers=3",
            "layer 0 `lstm 8 layers=2 layers=3`: the option layers is given twice",
        ),
        (
            "rows 2",
            "layer 0 `rows 2`: rows takes no argument, got \"2\"",
        ),
        (
            "embedding 10",
            "layer 0 `embedding 10`: takes the number of embeddings and their size: `embedding \
             1000 64` or `embedding 1000 64 padding_idx=0`",
        ),
        (
            "embedding 10 3 padding_idx=10",
            "layer 0 `embedding 10 3 padding_idx=10`: padding_idx must be below the number of \
             embeddings (10), got 10",
        ),
        (
            "embedding 10 3 padding_idx=-1",
            "layer 0 `embedding 10 3 padding_idx=-1`: padding_idx must be a whole number, got \
             \"-1\"",
        ),
    ] {
        assert_eq!(
            parse_error(text),
            format!("layer spec: {expected}"),
            "{text:?}"
        );
    }
}

#[test]
fn recurrent_inputs_without_a_time_dim_are_named_with_the_shapes() {
    for (text, input, expected) in [
        (
            "flatten, lstm 128, linear",
            &[1, 28, 28][..],
            "layer 1 `lstm 128 layers=1 bidirectional=false dropout=0 sequence=false`: needs \
             sequences [-1, T, I] (batch first), but its input is [-1, 784]; its input has no \
             time dim",
        ),
        (
            "gru 64, linear",
            &[1, 28, 28][..],
            "layer 0 `gru 64 layers=1 bidirectional=false dropout=0 sequence=false`: needs \
             sequences [-1, T, I] (batch first), but its input is [-1, 1, 28, 28]; put `rows` \
             before it to read images row by row",
        ),
        (
            "rows, lstm 32, lstm 32, linear",
            &[1, 28, 28][..],
            "layer 2 `lstm 32 layers=1 bidirectional=false dropout=0 sequence=false`: needs \
             sequences [-1, T, I] (batch first), but its input is [-1, 32]; its input has no \
             time dim",
        ),
        (
            "rows, linear",
            &[784][..],
            "layer 0 `rows`: needs images [-1, C, H, W], but its input is [-1, 784]",
        ),
        (
            "rows, rnn 8 sequence=true, linear",
            &[1, 28, 28][..],
            "layer 2 `linear`: needs flat features [-1, D], but its input is [-1, 28, 8]; put \
             `flatten` before it",
        ),
    ] {
        assert_eq!(
            summary_error(text, input, 10),
            format!("layer spec: {expected}"),
            "{text:?}"
        );
    }
}

#[test]
fn the_row_by_row_lstm_has_4h_i_plus_h_plus_8h_parameters_in_this_table() {
    let rows = nabla_nn::models::lstm().summary(&[1, 28, 28], 10).unwrap();
    assert_eq!(totals(&rows), (4 * 128 * (28 + 128) + 8 * 128 + 1290, 0));
    assert_eq!(
        table(&[1, 28, 28], &rows),
        "\
Input shape: [-1, 1, 28, 28]
Layer                            Output shape  Param #
======================================================
0  Rows                          [-1, 28, 28]        0
1  LSTM(28 -> 128, batch_first)  [-1, 128]      80,896
2  Linear(128 -> 10)             [-1, 10]        1,290
======================================================
Total params: 82,186
Trainable params: 82,186
Non-trainable params: 0
"
    );
    let gru = nabla_nn::models::gru().summary(&[1, 28, 28], 10).unwrap();
    assert_eq!(totals(&gru).0, 3 * 128 * (28 + 128) + 6 * 128 + 1290);
    let rnn = nabla_nn::models::rnn().summary(&[1, 28, 28], 10).unwrap();
    assert_eq!(totals(&rnn).0, 128 * (28 + 128) + 2 * 128 + 1290);
    // Stacked, bidirectional, all time steps: the second layer reads 2·16 features per step,
    // and colour images give C·W features per row.
    let spec = ModelSpec::parse(
        "rows, gru 16 layers=2 bidirectional=true sequence=true, lstm 8 sequence=true, \
         rnn 4 nonlinearity=relu, linear",
    )
    .unwrap();
    let rows = spec.summary(&[3, 5, 7], 2).unwrap();
    let shapes: Vec<&[usize]> = rows.iter().map(|r| &r.output_shape[..]).collect();
    assert_eq!(shapes, [&[5, 21][..], &[5, 32], &[5, 8], &[4], &[2]]);
    let layers: Vec<&str> = rows.iter().map(|r| r.layer.as_str()).collect();
    assert_eq!(
        layers,
        [
            "Rows",
            "GRU(21 -> 16, layers=2, bidirectional, batch_first, sequence)",
            "LSTM(32 -> 8, batch_first, sequence)",
            "RNN(8 -> 4, relu, batch_first)",
            "Linear(4 -> 2)"
        ]
    );
    let parameters: Vec<usize> = rows.iter().map(|r| r.parameters).collect();
    assert_eq!(
        parameters,
        [
            0,
            2 * (48 * (21 + 16) + 96) + 2 * (48 * (32 + 16) + 96),
            32 * (32 + 8) + 64,
            4 * (8 + 4) + 8,
            10
        ]
    );
}

/// Recurrent layers build what the summary says: output shapes, descriptions, parameter counts
/// and PyTorch's parameter names; gradients flow back through `rows` to the images.
#[test]
fn recurrent_specs_build_what_the_summary_says() {
    let spec = ModelSpec::parse(
        "rows, gru 6 layers=2 bidirectional=true dropout=0.1 sequence=true, lstm 5 sequence=true, \
         rnn 4 nonlinearity=relu, linear",
    )
    .unwrap();
    let input = [2, 4, 3];
    let rows = spec.summary(&input, 3).unwrap();
    let net = spec
        .build(
            &input,
            3,
            WeightInit::He,
            DType::F64,
            &mut Generator::new(1),
        )
        .unwrap();
    let x = Tensor::ones(&[5, 2, 4, 3], DType::F64).requires_grad();
    let trace = net.forward_trace(&x).unwrap();
    for (row, (output, layer)) in rows.iter().zip(trace.iter().zip(net.layers())) {
        assert_eq!(&output.shape()[1..], &row.output_shape[..], "{}", row.layer);
        assert_eq!(layer.describe(), row.layer);
        let held: usize = layer.parameters().iter().map(Tensor::numel).sum();
        assert_eq!(held, row.parameters, "{}", row.layer);
    }
    let names: Vec<String> = net.named_parameters().into_iter().map(|(n, _)| n).collect();
    assert_eq!(
        names[..4],
        [
            "1.weight_ih_l0",
            "1.weight_hh_l0",
            "1.bias_ih_l0",
            "1.bias_hh_l0"
        ]
    );
    assert_eq!(names[4], "1.weight_ih_l0_reverse");
    assert_eq!(names[8], "1.weight_ih_l1");
    assert_eq!(net.named_parameters()[8].1.shape(), &[18, 12]);
    trace.last().unwrap().sum().backward();
    let grad = x.grad().expect("the images get a gradient through rows");
    assert_eq!(grad.shape(), &[5, 2, 4, 3]);
    assert!(grad.to_vec::<f64>().iter().any(|&g| g != 0.0));
}

#[test]
fn embeddings_build_with_the_padding_row_at_zero() {
    let spec = ModelSpec::parse("embedding 7 3 padding_idx=2, flatten, linear").unwrap();
    let rows = spec.summary(&[4], 2).unwrap();
    assert_eq!(rows[0].layer, "Embedding(7, 3, padding_idx=2)");
    assert_eq!(rows[0].output_shape, [4, 3]);
    assert_eq!(totals(&rows), (21 + 12 * 2 + 2, 0));
    let net = spec
        .build(
            &[4],
            2,
            WeightInit::Default,
            DType::F32,
            &mut Generator::new(0),
        )
        .unwrap();
    assert_eq!(net.layers()[0].describe(), rows[0].layer);
    let weight = &net.named_parameters()[0].1;
    assert_eq!(weight.narrow(0, 2, 1).to_vec::<f32>(), [0.0; 3]);
}
