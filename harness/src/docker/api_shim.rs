//! A Docker API version shim for daemons older than the API that testcontainers speaks.
//!
//! testcontainers 0.28 pins bollard's default API version (1.53) and never negotiates, so every
//! request to an older daemon (Debian bookworm ships Docker 20.10, API 1.41) is refused with
//! "client version 1.53 is too new". The shim listens on a private unix socket and forwards each
//! connection to the daemon's socket byte for byte, replacing the request path prefix
//! `/v1.53/` with the daemon's own `/v1.41/`. Both prefixes have the same length, so no
//! Content-Length changes and hijacked streams (exec, attach) pass through untouched.
//!
//! It is written by hand because no crate offers a version-rewriting Docker socket proxy, and
//! a full HTTP reverse proxy would have to re-implement connection hijacking.
//! Known gaps: unix sockets only (a TCP or TLS `DOCKER_HOST` is used as it is).

use std::path::{Path, PathBuf};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{UnixListener, UnixStream};

/// Replaces `from` by `to` (same length) in a byte stream, across read boundaries.
struct PrefixRewriter {
    from: Vec<u8>,
    to: Vec<u8>,
    carry: Vec<u8>,
}

impl PrefixRewriter {
    fn new(from: &str, to: &str) -> Self {
        assert_eq!(
            from.len(),
            to.len(),
            "api prefixes must have the same length"
        );
        Self {
            from: from.as_bytes().to_vec(),
            to: to.as_bytes().to_vec(),
            carry: Vec::new(),
        }
    }

    /// Rewrites a chunk; returns the bytes that are safe to forward now. Up to `from.len() - 1`
    /// trailing bytes are held back in case a match spans two chunks.
    fn push(&mut self, chunk: &[u8]) -> Vec<u8> {
        let mut buf = std::mem::take(&mut self.carry);
        buf.extend_from_slice(chunk);
        let n = self.from.len();
        let mut i = 0;
        while i + n <= buf.len() {
            if buf[i..i + n] == self.from[..] {
                buf[i..i + n].copy_from_slice(&self.to);
                i += n;
            } else {
                i += 1;
            }
        }
        let keep = (n - 1).min(buf.len());
        let split = buf.len() - keep;
        // Only hold back a tail that could still begin a match.
        let split = (split..buf.len())
            .find(|&s| self.from.starts_with(&buf[s..]))
            .unwrap_or(buf.len());
        self.carry = buf[split..].to_vec();
        buf.truncate(split);
        buf
    }

    fn finish(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.carry)
    }
}

/// A running shim; the socket file is removed when the process exits or the shim is dropped.
#[derive(Debug)]
pub(crate) struct ApiShim {
    socket: PathBuf,
}

impl ApiShim {
    /// Starts the shim on its own thread and runtime, so that it outlives any test's runtime.
    pub(crate) fn start(
        upstream: &Path,
        from_version: &str,
        to_version: &str,
    ) -> std::io::Result<Self> {
        let socket =
            std::env::temp_dir().join(format!("harness-docker-{}.sock", std::process::id()));
        let _ = std::fs::remove_file(&socket);
        let std_listener = std::os::unix::net::UnixListener::bind(&socket)?;
        std_listener.set_nonblocking(true)?;
        let upstream = upstream.to_path_buf();
        let from = format!("/v{from_version}/");
        let to = format!("/v{to_version}/");
        if from.len() != to.len() {
            return Err(std::io::Error::other(format!(
                "cannot shim docker api {from_version} to {to_version}: prefixes differ in length"
            )));
        }
        std::thread::Builder::new()
            .name("docker-api-shim".into())
            .spawn(move || {
                let runtime = tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(1)
                    .enable_all()
                    .build()
                    .expect("docker api shim runtime");
                runtime.block_on(async move {
                    let listener = UnixListener::from_std(std_listener).expect("shim listener");
                    loop {
                        let Ok((client, _)) = listener.accept().await else {
                            continue;
                        };
                        let upstream = upstream.clone();
                        let (from, to) = (from.clone(), to.clone());
                        tokio::spawn(async move {
                            if let Ok(daemon) = UnixStream::connect(&upstream).await {
                                let _ = forward(client, daemon, &from, &to).await;
                            }
                        });
                    }
                });
            })?;
        Ok(Self { socket })
    }

    pub(crate) fn docker_host(&self) -> String {
        format!("unix://{}", self.socket.display())
    }
}

impl Drop for ApiShim {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.socket);
    }
}

async fn forward(
    client: UnixStream,
    daemon: UnixStream,
    from: &str,
    to: &str,
) -> std::io::Result<()> {
    let (mut client_read, mut client_write) = client.into_split();
    let (mut daemon_read, mut daemon_write) = daemon.into_split();
    let mut rewriter = PrefixRewriter::new(from, to);
    let requests = async move {
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let n = client_read.read(&mut buf).await?;
            if n == 0 {
                daemon_write.write_all(&rewriter.finish()).await?;
                daemon_write.shutdown().await?;
                return Ok::<_, std::io::Error>(());
            }
            daemon_write.write_all(&rewriter.push(&buf[..n])).await?;
        }
    };
    let responses = async move {
        tokio::io::copy(&mut daemon_read, &mut client_write).await?;
        client_write.shutdown().await
    };
    let (a, b) = tokio::join!(requests, responses);
    a.and(b)
}

#[cfg(test)]
mod tests {
    use super::PrefixRewriter;

    fn run(chunks: &[&[u8]]) -> Vec<u8> {
        let mut r = PrefixRewriter::new("/v1.53/", "/v1.41/");
        let mut out = Vec::new();
        for c in chunks {
            out.extend(r.push(c));
        }
        out.extend(r.finish());
        out
    }

    #[test]
    fn rewrites_whole_and_split_prefixes() {
        assert_eq!(
            run(&[b"GET /v1.53/version HTTP/1.1\r\n"]),
            b"GET /v1.41/version HTTP/1.1\r\n"
        );
        assert_eq!(run(&[b"GET /v1.", b"53/info"]), b"GET /v1.41/info");
        assert_eq!(
            run(&[b"GET /v1.53/a", b"\r\n\r\nPOST /v1.5", b"3/b"]),
            b"GET /v1.41/a\r\n\r\nPOST /v1.41/b"
        );
    }

    #[test]
    fn leaves_other_bytes_alone() {
        assert_eq!(run(&[b"/v1.52/x", b"/v1"]), b"/v1.52/x/v1");
        assert_eq!(run(&[b"", b"abc"]), b"abc");
    }
}
