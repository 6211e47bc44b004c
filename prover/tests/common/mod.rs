//! What the `credence` binary's process tests share.

/// A loopback port nothing listens on now (for a `credence serve --listen` child; another
/// process could take it before the child binds, which the tests accept as the rare retry).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}
