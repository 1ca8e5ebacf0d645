//! Who may drive the run: with `VPL_CONTROL_TOKEN` set, every request carries
//! `Authorization: Bearer TOKEN`; an address other than loopback requires the token, since
//! anyone who reaches it could add streams or stop the run.

use std::net::SocketAddr;

/// The variable holding the control API's token.
pub const TOKEN_VARIABLE: &str = "VPL_CONTROL_TOKEN";

/// The token for serving at `addr`, from `token` (the variable's value): `Ok(None)` on a
/// loopback address without one, `Err` with the message to say when `addr` is reachable
/// from other machines and no token is set.
pub fn token_for(addr: SocketAddr, token: Option<String>) -> Result<Option<String>, String> {
    let token = token.filter(|t| !t.is_empty());
    if token.is_none() && !addr.ip().is_loopback() {
        return Err(format!(
            "the control API at {addr} is reachable from other machines: set {TOKEN_VARIABLE} to a secret that every request must give as `Authorization: Bearer TOKEN`, or serve it on loopback (e.g. --control 127.0.0.1:{})",
            addr.port()
        ));
    }
    Ok(token)
}

/// Whether `given` is `expected`, in time that does not depend on where they differ.
pub fn same_token(given: &str, expected: &str) -> bool {
    let (a, b) = (given.as_bytes(), expected.as_bytes());
    let mut differ = (a.len() != b.len()) as u8;
    for i in 0..a.len().max(b.len()) {
        let x = a.get(i).copied().unwrap_or(0);
        let y = b.get(i).copied().unwrap_or(0);
        differ |= x ^ y;
    }
    differ == 0
}
