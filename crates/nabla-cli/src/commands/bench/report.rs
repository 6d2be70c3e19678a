//! The figures of a `nabla bench` run: one optional section per workload (`null` in the JSON when
//! it did not run, so every run prints the same keys), the table they print as, and the merge of
//! the sections measured in separate processes.

use serde::{Deserialize, Serialize};

/// MLP 784-100-10 trained with SGD for whole epochs.
#[derive(Serialize, Deserialize)]
pub struct MnistMlpFigure {
    pub batch_size: usize,
    pub steps_per_epoch: usize,
    /// Wall time of each timed epoch, in order.
    pub epoch_seconds_runs: Vec<f64>,
    pub epoch_seconds: f64,
    /// The loss of the last step, a check that training did happen.
    pub last_loss: f64,
    /// Resident memory once the data is loaded, before the model exists.
    pub data_rss_mib: Option<f64>,
    pub peak_rss_mib: Option<f64>,
}

/// A network trained with Adam (the wide MLP, the CNN, the recurrent networks), measured after
/// a warm-up.
#[derive(Serialize, Deserialize)]
pub struct ThroughputFigure {
    pub batch_size: usize,
    pub warmup_steps: usize,
    pub timed_steps: usize,
    /// Samples per second of each timed window of `timed_steps` steps.
    pub samples_per_second_runs: Vec<f64>,
    pub samples_per_second: f64,
    pub last_loss: f64,
    pub data_rss_mib: Option<f64>,
    pub peak_rss_mib: Option<f64>,
    /// Share of the all-threads FMA peak (the widest instruction set's) the training reaches,
    /// for workloads whose cost per sample is known, when the peak was measured in the same run.
    #[serde(default)]
    pub percent_of_peak: Option<f64>,
}

/// Time per op of a chain of multiplications on a 1-element tensor.
#[derive(Serialize, Deserialize)]
pub struct OverheadFigure {
    pub chain_length: usize,
    /// Forward and backward.
    pub ns_per_op: f64,
    pub forward_ns_per_op: f64,
}

/// One square f32 matrix product.
#[derive(Serialize, Deserialize)]
pub struct MatmulFigure {
    pub n: usize,
    pub seconds: f64,
    pub gflops: f64,
    /// Share of the all-threads peak, when the peak was measured in the same run.
    pub percent_of_avx2_peak: Option<f64>,
    pub percent_of_avx512_peak: Option<f64>,
}

/// Forward and backward of one f32 conv2d layer (bias included, stride 1, no padding).
#[derive(Serialize, Deserialize)]
pub struct ConvFigure {
    pub layer: String,
    pub batch: usize,
    pub in_channels: usize,
    pub out_channels: usize,
    /// Height and width of the input.
    pub size: usize,
    pub kernel: usize,
    /// Whether the input's gradient is computed (not for a stem, whose input is the data).
    pub input_grad: bool,
    /// Best time of one forward and backward.
    pub seconds: f64,
    pub gflops: f64,
}

/// One elementwise op over a long f32 tensor.
#[derive(Serialize, Deserialize)]
pub struct ElementwiseFigure {
    pub op: String,
    pub numel: usize,
    /// Best time of one call.
    pub microseconds: f64,
}

/// Peak f32 throughput of one instruction set, from a loop of independent FMAs.
#[derive(Clone, Serialize, Deserialize)]
pub struct PeakFigure {
    pub gflops_per_core: f64,
    pub gflops_total: f64,
}

/// The machine's FMA peaks; an instruction set the CPU lacks is `null`.
#[derive(Serialize, Deserialize)]
pub struct FmaPeak {
    pub threads: usize,
    pub avx2_fma: Option<PeakFigure>,
    pub avx512_fma: Option<PeakFigure>,
}

#[derive(Serialize, Deserialize)]
pub struct Report {
    pub engine: String,
    pub threads: usize,
    pub mnist_mlp: Option<MnistMlpFigure>,
    pub wide_mlp: Option<ThroughputFigure>,
    pub overhead: Option<OverheadFigure>,
    pub matmul_f32: Option<Vec<MatmulFigure>>,
    pub elementwise_f32: Option<Vec<ElementwiseFigure>>,
    pub conv2d_f32: Option<Vec<ConvFigure>>,
    pub fma_peak: Option<FmaPeak>,
    pub cnn: Option<ThroughputFigure>,
    pub lstm: Option<ThroughputFigure>,
    pub gru: Option<ThroughputFigure>,
    pub rnn: Option<ThroughputFigure>,
}

impl Report {
    /// A report with no section filled in.
    pub fn new() -> Report {
        Report {
            engine: format!("nabla {}", env!("CARGO_PKG_VERSION")),
            threads: nabla_core::num_threads(),
            mnist_mlp: None,
            wide_mlp: None,
            overhead: None,
            matmul_f32: None,
            elementwise_f32: None,
            conv2d_f32: None,
            fma_peak: None,
            cnn: None,
            lstm: None,
            gru: None,
            rnn: None,
        }
    }

    /// Takes every section `other` has and this report lacks.
    pub fn merge(&mut self, other: Report) {
        self.mnist_mlp = self.mnist_mlp.take().or(other.mnist_mlp);
        self.wide_mlp = self.wide_mlp.take().or(other.wide_mlp);
        self.overhead = self.overhead.take().or(other.overhead);
        self.matmul_f32 = self.matmul_f32.take().or(other.matmul_f32);
        self.elementwise_f32 = self.elementwise_f32.take().or(other.elementwise_f32);
        self.conv2d_f32 = self.conv2d_f32.take().or(other.conv2d_f32);
        self.fma_peak = self.fma_peak.take().or(other.fma_peak);
        self.cnn = self.cnn.take().or(other.cnn);
        self.lstm = self.lstm.take().or(other.lstm);
        self.gru = self.gru.take().or(other.gru);
        self.rnn = self.rnn.take().or(other.rnn);
    }

    /// Fills in the CNN's share of the peak (its FLOPs per training sample times samples per
    /// second, over the widest instruction set's all-threads peak), when both were measured.
    pub fn relate_cnn_to_peak(&mut self, flop_per_sample: f64) {
        let (Some(cnn), Some(peak)) = (&mut self.cnn, &self.fma_peak) else {
            return;
        };
        let widest = peak.avx512_fma.as_ref().or(peak.avx2_fma.as_ref());
        cnn.percent_of_peak =
            widest.map(|p| 100.0 * cnn.samples_per_second * flop_per_sample / 1e9 / p.gflops_total);
    }

    /// Fills in each matmul figure's share of the peaks, when both were measured.
    pub fn relate_matmul_to_peak(&mut self) {
        let (Some(figures), Some(peak)) = (&mut self.matmul_f32, &self.fma_peak) else {
            return;
        };
        let share = |gflops: f64, p: &Option<PeakFigure>| {
            p.as_ref().map(|p| 100.0 * gflops / p.gflops_total)
        };
        for m in figures {
            m.percent_of_avx2_peak = share(m.gflops, &peak.avx2_fma);
            m.percent_of_avx512_peak = share(m.gflops, &peak.avx512_fma);
        }
    }

    pub fn print_table(&self) {
        println!("{}, {} threads", self.engine, self.threads);
        if let Some(m) = &self.mnist_mlp {
            println!(
                "{:<44} {:.3} s/epoch (best of {}; {} steps; last loss {:.3})",
                format!("MLP 784-100-10 SGD, batch {}", m.batch_size),
                m.epoch_seconds,
                m.epoch_seconds_runs.len(),
                m.steps_per_epoch,
                m.last_loss
            );
            println!(
                "{:<44} {} peak ({} with the data loaded)",
                "",
                mib(m.peak_rss_mib),
                mib(m.data_rss_mib)
            );
        }
        if let Some(w) = &self.wide_mlp {
            print_throughput("MLP 784-1024-1024-10 Adam", w);
        }
        if let Some(c) = &self.cnn {
            print_throughput("CNN 2 conv + 2 linear Adam", c);
        }
        for (label, figure) in [
            ("LSTM 28->128 + linear Adam", &self.lstm),
            ("GRU 28->128 + linear Adam", &self.gru),
            ("RNN 28->128 + linear Adam", &self.rnn),
        ] {
            if let Some(f) = figure {
                print_throughput(label, f);
            }
        }
        if let Some(o) = &self.overhead {
            println!(
                "{:<44} {:.0} ns/op forward + backward ({:.0} ns/op forward only)",
                format!("autograd overhead, {}-op chain", o.chain_length),
                o.ns_per_op,
                o.forward_ns_per_op
            );
        }
        if let Some(p) = &self.fma_peak {
            for (name, figure) in [("AVX2+FMA", &p.avx2_fma), ("AVX-512", &p.avx512_fma)] {
                let value = figure.as_ref().map_or("not supported".to_string(), |f| {
                    format!(
                        "{:.1} GFLOP/s per core, {:.1} GFLOP/s on {} threads",
                        f.gflops_per_core, f.gflops_total, p.threads
                    )
                });
                println!("{:<44} {value}", format!("f32 FMA peak, {name}"));
            }
        }
        if let Some(figures) = &self.elementwise_f32 {
            for e in figures {
                println!(
                    "{:<44} {:.0} µs",
                    format!("f32 {} over {} elements", e.op, e.numel),
                    e.microseconds
                );
            }
        }
        if let Some(figures) = &self.conv2d_f32 {
            for c in figures {
                println!(
                    "{:<44} {:.2} ms forward + backward, {:.1} GFLOP/s",
                    format!(
                        "f32 conv2d {}, {}x{}x{}x{} -> {} ch",
                        c.layer, c.batch, c.in_channels, c.size, c.size, c.out_channels
                    ),
                    c.seconds * 1e3,
                    c.gflops
                );
            }
        }
        if let Some(figures) = &self.matmul_f32 {
            let percent = |v: Option<f64>| v.map_or("-".to_string(), |v| format!("{v:.1}"));
            println!(
                "{:>6} {:>12} {:>10} {:>12} {:>14}",
                "n", "time (ms)", "GFLOP/s", "% AVX2 peak", "% AVX-512 peak"
            );
            for m in figures {
                println!(
                    "{:>6} {:>12.3} {:>10.1} {:>12} {:>14}",
                    m.n,
                    m.seconds * 1e3,
                    m.gflops,
                    percent(m.percent_of_avx2_peak),
                    percent(m.percent_of_avx512_peak)
                );
            }
        }
    }
}

/// The two lines of a training-throughput workload: samples per second (with the share of the
/// FMA peak when it was related to one), then peak memory.
fn print_throughput(label: &str, f: &ThroughputFigure) {
    let share = f
        .percent_of_peak
        .map_or(String::new(), |p| format!(", {p:.1}% of the FMA peak"));
    println!(
        "{:<44} {:.0} samples/s{share} (best of {} x {} steps after {} warm-up; last loss {:.3})",
        format!("{label}, batch {}", f.batch_size),
        f.samples_per_second,
        f.samples_per_second_runs.len(),
        f.timed_steps,
        f.warmup_steps,
        f.last_loss
    );
    println!(
        "{:<44} {} peak ({} with the data loaded)",
        "",
        mib(f.peak_rss_mib),
        mib(f.data_rss_mib)
    );
}

/// A resident-memory figure in MiB, or `n/a` where it could not be read.
fn mib(v: Option<f64>) -> String {
    v.map_or("n/a".to_string(), |v| format!("{v:.0} MiB"))
}
