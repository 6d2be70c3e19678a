//! A layer's panicking form reports the line that called it, not a line inside the library.

use nabla_core::{DType, Generator, Tensor};
use nabla_nn::layers::{Dropout, Lstm, RecurrentOptions};
use nabla_nn::module::Module;
use std::panic::{self, AssertUnwindSafe};
use std::sync::{Arc, Mutex};

#[test]
fn panicking_forms_point_at_the_caller() {
    let files: Arc<Mutex<Vec<String>>> = Arc::default();
    let record = files.clone();
    let previous = panic::take_hook();
    panic::set_hook(Box::new(move |info| {
        let file = info.location().map(|l| l.file().to_string());
        record.lock().unwrap().push(file.unwrap_or_default());
    }));
    let lstm = Lstm::new(
        3,
        4,
        RecurrentOptions::default(),
        DType::F32,
        &mut Generator::new(0),
    )
    .unwrap();
    let wrong = Tensor::zeros(&[5, 2, 7], DType::F32);
    let calls: Vec<Box<dyn FnOnce()>> = vec![
        Box::new(|| drop(lstm.forward(&wrong))),
        Box::new(|| drop(lstm.forward_sequence(&wrong, None, None))),
        Box::new(|| {
            Dropout::new(1.5, 0);
        }),
    ];
    for call in calls {
        assert!(panic::catch_unwind(AssertUnwindSafe(call)).is_err());
    }
    panic::set_hook(previous);
    let files = files.lock().unwrap();
    assert_eq!(files.len(), 3);
    for file in files.iter() {
        assert!(
            file.ends_with("tests/panic_location.rs"),
            "panic reported at {file}"
        );
    }
}
