//! Any bytes as a lone URI, Via value or name-addr.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sipcfg_runtime::sip::{NameAddr, Uri, Via, percent_decode};

fuzz_target!(|data: &[u8]| {
    if let Ok(uri) = Uri::parse(data) {
        let _ = (uri.user().map(percent_decode), uri.host_port(), uri.param(b"transport"), uri.opaque());
    }
    if let Ok(via) = Via::parse(data) {
        let _ = (via.branch(), via.rport(), via.sent_by_end(), via.param(b"x"));
    }
    if let Ok(addr) = NameAddr::parse(data) {
        let _ = (addr.tag(), addr.uri().map(|u| u.host().len()), addr.params().count());
    }
});
