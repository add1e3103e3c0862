//! Socket operations on `&TcpStream`. Both directions of a link need one half of each
//! socket, and the connection needs both sockets afterwards (to reset them), so the pumps
//! borrow the streams instead of owning split halves. Reads and waits are cancel-safe.

use std::io;
use std::net::Shutdown;
use std::time::Duration;
use tokio::net::TcpStream;

pub(crate) async fn read_some(stream: &TcpStream, buf: &mut [u8]) -> io::Result<usize> {
    loop {
        stream.readable().await?;
        match stream.try_read(buf) {
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
            other => return other,
        }
    }
}

pub(crate) async fn write_all(stream: &TcpStream, mut data: &[u8]) -> io::Result<()> {
    while !data.is_empty() {
        stream.writable().await?;
        match stream.try_write(data) {
            Ok(n) => data = &data[n..],
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Sends FIN: the peer reads end of stream but may still send.
pub(crate) fn shutdown_write(stream: &TcpStream) -> io::Result<()> {
    socket2::SockRef::from(stream).shutdown(Shutdown::Write)
}

/// Makes the coming close send RST instead of FIN.
pub(crate) fn reset_on_close(stream: &TcpStream) {
    if let Err(error) = socket2::SockRef::from(stream).set_linger(Some(Duration::ZERO)) {
        tracing::debug!(%error, "could not set SO_LINGER 0");
    }
}
