//! A guest's stdout and stderr, passed to the host's own streams a whole
//! line at a time.
//!
//! Guests write a line in pieces (Rust's `eprintln!("a {x}")` is three
//! writes, each a `blocking-write-and-flush`), and instances run side by
//! side, so written through as they come, two guests' lines interleave
//! mid-line. Each stream here keeps the unfinished line and writes complete
//! lines with one `write_all`, so a line from one instance never has
//! another's bytes inside it. A guest's flush does not cut a line (it comes
//! after every write); the rest is written when the instance ends or when
//! an unfinished line passes [`MAX_LINE`].

use bytes::Bytes;
use std::io::Write;
use std::pin::Pin;
use std::task::{Context, Poll};
use tokio::io::AsyncWrite;
use wasmtime_wasi::cli::{IsTerminal, StdoutStream};
use wasmtime_wasi::p2::{OutputStream, Pollable, StreamError, StreamResult};

/// The longest unfinished line kept back; longer ones are written in pieces.
pub const MAX_LINE: usize = 16 * 1024;

/// Which of the host's streams a guest stream goes to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GuestOutput {
    /// The host's stdout.
    Stdout,
    /// The host's stderr.
    Stderr,
}

impl GuestOutput {
    fn line_writer(self) -> LineWriter<Self> {
        LineWriter::new(self)
    }
}

/// Each write is one `write_all` on the locked host stream.
impl Write for GuestOutput {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        match self {
            Self::Stdout => std::io::stdout().lock().write_all(bytes),
            Self::Stderr => std::io::stderr().lock().write_all(bytes),
        }?;
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        match self {
            Self::Stdout => std::io::stdout().flush(),
            Self::Stderr => std::io::stderr().flush(),
        }
    }
}

impl IsTerminal for GuestOutput {
    fn is_terminal(&self) -> bool {
        match self {
            Self::Stdout => std::io::IsTerminal::is_terminal(&std::io::stdout()),
            Self::Stderr => std::io::IsTerminal::is_terminal(&std::io::stderr()),
        }
    }
}

impl StdoutStream for GuestOutput {
    fn async_stream(&self) -> Box<dyn AsyncWrite + Send + Sync> {
        Box::new(self.line_writer())
    }

    fn p2_stream(&self) -> Box<dyn OutputStream> {
        Box::new(self.line_writer())
    }
}

/// One guest stream: complete lines go out at once, the unfinished one waits.
struct LineWriter<W: Write> {
    output: W,
    unfinished: Vec<u8>,
}

impl<W: Write> LineWriter<W> {
    fn new(output: W) -> Self {
        Self {
            output,
            unfinished: Vec::new(),
        }
    }

    fn push(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        let Some(last_newline) = bytes.iter().rposition(|&b| b == b'\n') else {
            self.unfinished.extend_from_slice(bytes);
            if self.unfinished.len() > MAX_LINE {
                self.write_unfinished()?;
            }
            return Ok(());
        };
        let (lines, rest) = bytes.split_at(last_newline + 1);
        if self.unfinished.is_empty() {
            self.output.write_all(lines)?;
        } else {
            self.unfinished.extend_from_slice(lines);
            self.write_unfinished()?;
        }
        self.unfinished.extend_from_slice(rest);
        Ok(())
    }

    fn write_unfinished(&mut self) -> std::io::Result<()> {
        let pending = std::mem::take(&mut self.unfinished);
        self.output.write_all(&pending)
    }
}

impl<W: Write> Drop for LineWriter<W> {
    fn drop(&mut self) {
        if !self.unfinished.is_empty() {
            let _ = self.write_unfinished();
        }
    }
}

fn stream_error(e: std::io::Error) -> StreamError {
    if e.kind() == std::io::ErrorKind::BrokenPipe {
        StreamError::Closed
    } else {
        StreamError::LastOperationFailed(e.into())
    }
}

impl<W: Write + Send + Sync + 'static> OutputStream for LineWriter<W> {
    fn write(&mut self, bytes: Bytes) -> StreamResult<()> {
        self.push(&bytes).map_err(stream_error)
    }

    fn flush(&mut self) -> StreamResult<()> {
        Ok(())
    }

    fn check_write(&mut self) -> StreamResult<usize> {
        Ok(MAX_LINE)
    }
}

#[wasmtime_wasi::async_trait]
impl<W: Write + Send + Sync + 'static> Pollable for LineWriter<W> {
    async fn ready(&mut self) {}
}

impl<W: Write + Unpin> AsyncWrite for LineWriter<W> {
    fn poll_write(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Poll::Ready(self.get_mut().push(buf).map(|()| buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(self.get_mut().write_unfinished())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    /// Records each `write` call, to see what one call carried.
    #[derive(Clone, Default)]
    struct Writes(Arc<Mutex<Vec<String>>>);

    impl Write for Writes {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            let text = String::from_utf8_lossy(bytes).into_owned();
            self.0.lock().unwrap().push(text);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl Writes {
        fn calls(&self) -> Vec<String> {
            self.0.lock().unwrap().clone()
        }
    }

    #[test]
    fn a_line_written_in_pieces_goes_out_in_one_write() {
        let writes = Writes::default();
        let mut stream = LineWriter::new(writes.clone());
        for piece in ["consumer: ", "not a tweet", ": ", "not a CloudEvent", "\n"] {
            OutputStream::write(&mut stream, Bytes::from(piece)).unwrap();
            OutputStream::flush(&mut stream).unwrap();
        }
        assert_eq!(
            writes.calls(),
            ["consumer: not a tweet: not a CloudEvent\n"]
        );
    }

    #[test]
    fn complete_lines_go_out_and_the_rest_waits_for_the_end() {
        let writes = Writes::default();
        let mut stream = LineWriter::new(writes.clone());
        OutputStream::write(&mut stream, Bytes::from("one\ntwo\nthr")).unwrap();
        assert_eq!(writes.calls(), ["one\ntwo\n"]);
        OutputStream::write(&mut stream, Bytes::from("ee")).unwrap();
        drop(stream);
        assert_eq!(writes.calls(), ["one\ntwo\n", "three"]);
    }

    #[test]
    fn an_endless_line_is_written_in_pieces_of_bounded_size() {
        let writes = Writes::default();
        let mut stream = LineWriter::new(writes.clone());
        let chunk = "x".repeat(4096);
        for _ in 0..10 {
            OutputStream::write(&mut stream, Bytes::from(chunk.clone())).unwrap();
        }
        let calls = writes.calls();
        assert_eq!(calls.len(), 2, "held back up to {MAX_LINE} bytes at a time");
        assert!(calls.iter().all(|c| c.len() <= MAX_LINE + 4096));
    }
}
