//! Every parser on arbitrary bytes: errors are fine, panics are bugs.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    for kind in inbox_channels::KINDS {
        let _ = inbox_channels::parse(kind, data);
    }
});
