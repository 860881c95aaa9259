// sl_send_reply is a REQUEST_ROUTE function: from the core reply route it must not compile.
use sipcfg_runtime::__private as rt;

fn reply_route(cx: &mut rt::ReplyCx<'_, (), ()>) -> rt::Flow {
    rt::sl::send_reply(cx, 200, b"OK");
    rt::Flow::Return(1)
}

fn main() {
    let _ = reply_route;
}
