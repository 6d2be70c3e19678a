//! The safetensors checkpoint loader on arbitrary bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok((tensors, _)) = nabla_nn::checkpoint::parse_safetensors(data, "fuzz.safetensors") {
        for (_, t) in tensors {
            assert_eq!(t.numel(), t.shape().iter().product::<usize>());
        }
    }
});
