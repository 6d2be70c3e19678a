//! A character-level language model: an LSTM reads Shakespeare's *Macbeth* (public domain,
//! `data/shakespeare/macbeth.txt`) one character at a time and learns to predict the next,
//! then writes text of its own, sampled at several temperatures.
//!
//! The model is Embedding(V, 32) → LSTM(32 → 256) → Linear(256 → V), V the number of distinct
//! characters. The text is cut into 32 parallel streams read in chunks of 64 characters with
//! truncated backpropagation through time: the LSTM's state is carried from one chunk to the
//! next but detached, so each backward pass runs through 64 steps only. Adam, gradients
//! clipped to global norm 1; the last 10% of the play is held out.
//!
//! Run with `cargo run --release -p nabla-inspect --example char_lm [-- OUT_DIR [EPOCHS]]`
//! (the loss curve into OUT_DIR, `char_lm` by default; 10 epochs by default).

use nabla_core::{DType, Generator, Tensor, no_grad};
use nabla_inspect::diagnostics::{Panel, STEP_SMOOTHING, Series, line_chart_svg};
use nabla_nn::clip::clip_grad_norm;
use nabla_nn::layers::{Embedding, Linear, Lstm, RecurrentOptions, RecurrentState};
use nabla_nn::loss::try_cross_entropy;
use nabla_nn::module::Module;
use nabla_nn::optim::{Adam, Optim, Optimizer};
use std::path::PathBuf;
use std::time::Instant;

const EMBEDDING: usize = 32;
const HIDDEN: usize = 256;
/// Parallel streams of text in a batch.
const STREAMS: usize = 32;
/// Time steps per chunk: how far back each backward pass reaches.
const CHUNK: usize = 64;
const LEARNING_RATE: f64 = 3e-3;
const MAX_NORM: f64 = 1.0;
const PROMPT: &str = "MACBETH:\n";
const SAMPLE_LENGTH: usize = 400;
const TEMPERATURES: [f64; 3] = [0.5, 0.8, 1.0];

/// The text's distinct characters, sorted; a character's index is its token.
struct Vocabulary {
    chars: Vec<char>,
}

impl Vocabulary {
    fn of(text: &str) -> Vocabulary {
        let mut chars: Vec<char> = text.chars().collect();
        chars.sort_unstable();
        chars.dedup();
        Vocabulary { chars }
    }

    fn encode(&self, text: &str) -> Vec<i64> {
        text.chars()
            .map(|c| {
                self.chars
                    .binary_search(&c)
                    .expect("a character of the text") as i64
            })
            .collect()
    }
}

struct CharLm {
    embedding: Embedding,
    lstm: Lstm,
    head: Linear,
}

impl CharLm {
    fn new(vocabulary: usize, rng: &mut Generator) -> nabla_nn::Result<CharLm> {
        Ok(CharLm {
            embedding: Embedding::new(vocabulary, EMBEDDING, None, DType::F32, rng)?,
            lstm: Lstm::new(
                EMBEDDING,
                HIDDEN,
                RecurrentOptions::default(),
                DType::F32,
                rng,
            )?,
            head: Linear::new(HIDDEN, vocabulary, DType::F32, rng),
        })
    }

    fn parameters(&self) -> Vec<(String, Tensor)> {
        let mut params = Vec::new();
        for (prefix, module) in [
            ("embedding", &self.embedding as &dyn Module),
            ("lstm", &self.lstm),
            ("head", &self.head),
        ] {
            for (name, p) in module.named_parameters() {
                params.push((format!("{prefix}.{name}"), p));
            }
        }
        params
    }

    /// Logits `[T·N, V]` for tokens `[T, N]` (time first), from `state`, and the state after.
    fn forward(
        &self,
        tokens: &Tensor,
        state: Option<&RecurrentState>,
    ) -> nabla_nn::Result<(Tensor, RecurrentState)> {
        let out =
            self.lstm
                .try_forward_sequence(&self.embedding.try_forward(tokens)?, state, None)?;
        let [t, n, h] = *out.output.shape() else {
            unreachable!("an LSTM's output over a batch is [T, N, H]")
        };
        let logits = self.head.try_forward(&out.output.reshape(&[t * n, h]))?;
        Ok((logits, out.state))
    }
}

/// The chunks of `tokens` read as `STREAMS` parallel streams: `(inputs, targets)`, each
/// `[CHUNK, STREAMS]`, the targets one character ahead.
fn chunks(tokens: &[i64]) -> Vec<(Tensor, Tensor)> {
    let length = (tokens.len() - 1) / STREAMS;
    let at = |s: usize, i: usize| tokens[s * length + i];
    (0..length / CHUNK)
        .map(|c| {
            let gather = |offset: usize| {
                let values = (0..CHUNK)
                    .flat_map(|t| (0..STREAMS).map(move |s| (s, c * CHUNK + t + offset)))
                    .map(|(s, i)| at(s, i))
                    .collect();
                Tensor::from_vec(values, &[CHUNK, STREAMS])
            };
            (gather(0), gather(1))
        })
        .collect()
}

/// Mean cross-entropy (nats per character) over the chunks, the state carried along.
fn evaluate(model: &CharLm, chunks: &[(Tensor, Tensor)]) -> nabla_nn::Result<f64> {
    no_grad(|| {
        let mut state = None;
        let mut total = 0.0;
        for (x, y) in chunks {
            let (logits, next) = model.forward(x, state.as_ref())?;
            total += try_cross_entropy(&logits, &y.reshape(&[CHUNK * STREAMS]))?.to_f64_vec()[0];
            state = Some(next);
        }
        Ok(total / chunks.len() as f64)
    })
}

/// `SAMPLE_LENGTH` characters after `PROMPT`, each drawn from the softmax of the logits divided
/// by `temperature`.
fn sample(
    model: &CharLm,
    vocabulary: &Vocabulary,
    temperature: f64,
    rng: &mut Generator,
) -> nabla_nn::Result<String> {
    no_grad(|| {
        let prompt = vocabulary.encode(PROMPT);
        let n = prompt.len();
        let (logits, mut state) = model.forward(&Tensor::from_vec(prompt, &[n, 1]), None)?;
        let v = vocabulary.chars.len();
        let mut last: Vec<f64> = logits.to_f64_vec()[(n - 1) * v..].to_vec();
        let mut text = String::from(PROMPT);
        for _ in 0..SAMPLE_LENGTH {
            let top = last.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            let weights: Vec<f64> = last
                .iter()
                .map(|l| ((l - top) / temperature).exp())
                .collect();
            let mut draw = rng.uniform(0.0, weights.iter().sum());
            let token = weights
                .iter()
                .position(|&w| {
                    draw -= w;
                    draw < 0.0
                })
                .unwrap_or(v - 1);
            text.push(vocabulary.chars[token]);
            let (logits, next) =
                model.forward(&Tensor::from_vec(vec![token as i64], &[1, 1]), Some(&state))?;
            last = logits.to_f64_vec();
            state = next;
        }
        Ok(text)
    })
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let dir = PathBuf::from(args.next().unwrap_or_else(|| "char_lm".to_string()));
    let epochs: usize = match args.next() {
        Some(e) => e
            .parse()
            .ok()
            .filter(|&n| n > 0)
            .ok_or_else(|| format!("EPOCHS must be a whole number of at least 1, got {e:?}"))?,
        None => 10,
    };
    std::fs::create_dir_all(&dir)?;
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../data/shakespeare/macbeth.txt");
    let text = std::fs::read_to_string(&path)?;
    let vocabulary = Vocabulary::of(&text);
    let tokens = vocabulary.encode(&text);
    let split = tokens.len() * 9 / 10;
    let (train, held_out) = (chunks(&tokens[..split]), chunks(&tokens[split..]));
    let v = vocabulary.chars.len();
    println!(
        "data/shakespeare/macbeth.txt: {} characters, {v} distinct; {} training chunks of \
         {CHUNK}×{STREAMS} per epoch, {} held out",
        tokens.len(),
        train.len(),
        held_out.len()
    );
    println!(
        "a uniform guess scores ln {v} = {:.3} nats per character",
        (v as f64).ln()
    );

    let mut rng = Generator::new(7);
    let model = CharLm::new(v, &mut rng)?;
    let params = model.parameters();
    let mut optimizer = Optim::new(params.clone(), Adam::new(), LEARNING_RATE)?;
    let started = Instant::now();
    let mut losses = Vec::new();
    let mut evaluations = vec![(0.0, evaluate(&model, &held_out)?)];
    println!(
        "{:>6} {:>12} {:>12} {:>8}",
        "epoch", "train loss", "held-out", "seconds"
    );
    for epoch in 1..=epochs {
        let mut state: Option<RecurrentState> = None;
        let mut epoch_loss = 0.0;
        for (x, y) in &train {
            optimizer.zero_grad();
            let (logits, next) = model.forward(x, state.as_ref())?;
            let loss = try_cross_entropy(&logits, &y.reshape(&[CHUNK * STREAMS]))?;
            loss.backward();
            clip_grad_norm(&params, MAX_NORM)?;
            optimizer.step()?;
            // Truncated BPTT: the next chunk starts from this state, cut from its graph.
            state = Some(next.detach());
            let value = loss.to_f64_vec()[0];
            epoch_loss += value;
            losses.push(value);
        }
        let held = evaluate(&model, &held_out)?;
        evaluations.push((losses.len() as f64, held));
        println!(
            "{epoch:>6} {:>12.4} {held:>12.4} {:>8.1}",
            epoch_loss / train.len() as f64,
            started.elapsed().as_secs_f64()
        );
    }

    for temperature in TEMPERATURES {
        let text = sample(&model, &vocabulary, temperature, &mut Generator::new(1))?;
        println!("\n--- temperature {temperature} ---\n{text}");
    }

    let panel = Panel {
        title: "cross-entropy (nats per character)".to_string(),
        x_label: "training step".to_string(),
        y_label: "loss".to_string(),
        log_y: false,
        series: vec![
            Series {
                name: "training steps (smoothed)".to_string(),
                points: losses
                    .iter()
                    .enumerate()
                    .map(|(i, &l)| ((i + 1) as f64, l))
                    .collect(),
                dashed: false,
                failure: None,
                smoothing: STEP_SMOOTHING,
            },
            Series {
                name: "held out (after each epoch)".to_string(),
                points: evaluations,
                dashed: false,
                failure: None,
                smoothing: 0.0,
            },
        ],
        ..Panel::default()
    };
    let title = format!("character-level LSTM on Macbeth (hidden {HIDDEN}, chunks of {CHUNK})");
    let path = dir.join("char_lm_loss.svg");
    std::fs::write(&path, line_chart_svg(&title, &[panel])?)?;
    println!("\nwrote {}", path.display());
    Ok(())
}
