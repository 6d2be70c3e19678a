//! Convolutions: `conv1d`, `conv2d`, `conv_transpose2d`, the weight gradient `conv2d_weight`,
//! and what they rest on, `pad` and `unfold` (im2col). The three convolutions are the three
//! bilinear maps of one geometry (output from input and weight; input from output and
//! weight; weight from input and output), so the gradient of each is made of the others and
//! every order of derivative is available.

mod conv2d;
mod geometry;
mod kernels;
mod pad;
mod transpose;
mod unfold;
mod weight;
