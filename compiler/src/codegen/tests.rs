use super::*;
use crate::{Options, check_text, preprocess::FsLoader};

fn expand(text: &str) -> Result<String, Vec<Diagnostic>> {
    let fe = check_text("test.cfg", std::path::Path::new("test.cfg"), text.to_string(), &Options::default(), &FsLoader);
    assert!(!fe.has_errors(), "{:?}", fe.diagnostics);
    generate(&fe).map(|g| g.code)
}

#[test]
fn simple_config_generates() {
    let code = expand("loadmodule \"sl.so\"\nrequest_route { sl_send_reply(\"200\", \"OK\"); }\n").expect("generates");
    assert!(code.contains("fn request_route"), "{code}");
    assert!(code.contains("rt::sl::send_reply(cx, 200i64"), "{code}");
}
