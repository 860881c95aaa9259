// A request route may answer, rewrite the R-URI and forward: this compiles.
use sipcfg_runtime::__private as rt;

fn request_route(cx: &mut rt::RequestCx<'_, (), ()>) -> rt::Flow {
    rt::core::uri::rewrite_hostport(cx, b"127.0.0.2");
    rt::core::forward(cx, rt::ForwardTo::Uri, None);
    rt::sl::send_reply(cx, 200, b"OK");
    rt::Flow::Return(1)
}

fn main() {
    let _ = request_route;
}
