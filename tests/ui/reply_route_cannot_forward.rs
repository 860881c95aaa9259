// A reply has no R-URI to rewrite and is not forwarded with forward().
use sipcfg_runtime::__private as rt;

fn reply_route(cx: &mut rt::ReplyCx<'_, (), ()>) -> rt::Flow {
    rt::core::uri::rewrite_hostport(cx, b"127.0.0.2");
    rt::core::forward(cx, rt::ForwardTo::Uri, None);
    rt::Flow::Return(1)
}

fn main() {
    let _ = reply_route;
}
