//! The route-type typestate: runtime functions that Kamailio only allows in request routes
//! take a context whose kind says so, so generated code that breaks the rule cannot compile
//! (the checker reports it first; this is the second line of defence).

#[test]
fn request_only_functions_do_not_compile_in_reply_routes() {
    let cases = trybuild::TestCases::new();
    cases.pass("ui/request_route_can_reply.rs");
    cases.compile_fail("ui/reply_route_cannot_send_reply.rs");
    cases.compile_fail("ui/reply_route_cannot_forward.rs");
}
