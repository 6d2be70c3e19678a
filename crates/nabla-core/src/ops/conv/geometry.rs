//! The shapes of one 2-d convolution, fixed once its operands are checked: every kernel and
//! every rule of the family works from it.

/// A convolution of an `[batch, in_channels, input]` tensor with an
/// `[out_channels, in_channels / groups, kernel]` weight giving `[batch, out_channels, output]`.
/// The output size is stored, not derived: input positions a window reaches outside
/// `0..input` read zeros, which covers symmetric padding, `"same"` padding with its odd zero
/// after, and the transposed convolution's output padding alike.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Geometry {
    pub(crate) batch: usize,
    pub(crate) in_channels: usize,
    pub(crate) out_channels: usize,
    pub(crate) groups: usize,
    pub(crate) input: [usize; 2],
    pub(crate) output: [usize; 2],
    pub(crate) kernel: [usize; 2],
    pub(crate) stride: [usize; 2],
    /// Zeros before each spatial dim.
    pub(crate) padding: [usize; 2],
    pub(crate) dilation: [usize; 2],
}

impl Geometry {
    pub(crate) fn input_shape(&self) -> [usize; 4] {
        [self.batch, self.in_channels, self.input[0], self.input[1]]
    }

    pub(crate) fn output_shape(&self) -> [usize; 4] {
        [
            self.batch,
            self.out_channels,
            self.output[0],
            self.output[1],
        ]
    }

    pub(crate) fn weight_shape(&self) -> [usize; 4] {
        [
            self.out_channels,
            self.in_channels / self.groups,
            self.kernel[0],
            self.kernel[1],
        ]
    }

    /// Rows of a group's column matrix: `in_channels / groups · kh · kw`.
    pub(crate) fn patch(&self) -> usize {
        self.in_channels / self.groups * self.kernel[0] * self.kernel[1]
    }

    /// Output positions per channel: `oh · ow`.
    pub(crate) fn positions(&self) -> usize {
        self.output[0] * self.output[1]
    }

    /// Whether the column matrix of a group is its input channels as they lie: a 1×1 kernel
    /// with stride 1 and no padding over an input the size of the output.
    pub(crate) fn is_pointwise(&self) -> bool {
        self.kernel == [1, 1]
            && self.stride == [1, 1]
            && self.padding == [0, 0]
            && self.input == self.output
    }

    /// Multiply-adds of the forward pass (the same for each gradient).
    pub(crate) fn macs(&self) -> usize {
        self.batch
            .saturating_mul(self.out_channels)
            .saturating_mul(self.positions())
            .saturating_mul(self.patch())
    }
}
