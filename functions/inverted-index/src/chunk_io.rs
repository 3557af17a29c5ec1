//! Reading and writing a stream in chunks on threads of their own, so a
//! phase computes while its previous output drains into a pipe and its next
//! input arrives. Writing a phase's output in the same thread stalled the
//! phase whenever the pipe was full: a 64 KiB pipe buffer holds a few
//! percent of one chunk's output, so `map | sort` waited on `sort` for most
//! of each chunk. Used by `cloudfn stream` and by the native build of the
//! benchmark, which feed a phase the same way.
//!
//! Each channel holds at most [`DEPTH`] chunks, so memory stays flat.

use std::io::{self, Read, Write};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::thread::JoinHandle;

/// Chunks waiting in each direction, besides the one being worked on.
pub const DEPTH: usize = 2;

/// Reads whole chunks of a stream ahead of the caller.
#[derive(Debug)]
pub struct ChunkReader {
    chunks: Receiver<io::Result<Vec<u8>>>,
}

impl ChunkReader {
    /// Starts a thread reading `input` in chunks of `chunk` bytes (fewer only at the end).
    pub fn spawn(mut input: impl Read + Send + 'static, chunk: usize) -> io::Result<Self> {
        let (send, chunks) = sync_channel(DEPTH);
        std::thread::Builder::new()
            .name("stream-reader".into())
            .spawn(move || {
                loop {
                    let mut buffer = Vec::with_capacity(chunk);
                    // A pipe gives 64 KiB per read: gather whole chunks.
                    match input.by_ref().take(chunk as u64).read_to_end(&mut buffer) {
                        // The end: the closed channel tells the caller.
                        Ok(0) => return,
                        Ok(_) => {
                            if send.send(Ok(buffer)).is_err() {
                                return; // The caller stopped reading.
                            }
                        }
                        Err(e) => {
                            let _ = send.send(Err(e));
                            return;
                        }
                    }
                }
            })?;
        Ok(Self { chunks })
    }

    /// The next chunk, or `None` at the end of the stream.
    pub fn next_chunk(&mut self) -> io::Result<Option<Vec<u8>>> {
        match self.chunks.recv() {
            Ok(Ok(chunk)) => Ok(Some(chunk)),
            Ok(Err(e)) => Err(e),
            // The thread ended at the end of the stream.
            Err(_) => Ok(None),
        }
    }
}

/// Writes chunks of a stream behind the caller.
#[derive(Debug)]
pub struct ChunkWriter {
    chunks: Option<SyncSender<Vec<u8>>>,
    thread: Option<JoinHandle<io::Result<()>>>,
}

impl ChunkWriter {
    /// Starts a thread writing to `output`.
    pub fn spawn(mut output: impl Write + Send + 'static) -> io::Result<Self> {
        let (chunks, receive) = sync_channel::<Vec<u8>>(DEPTH);
        let thread = std::thread::Builder::new()
            .name("stream-writer".into())
            .spawn(move || {
                for chunk in receive {
                    output.write_all(&chunk)?;
                }
                output.flush()
            })?;
        Ok(Self {
            chunks: Some(chunks),
            thread: Some(thread),
        })
    }

    /// Queues `chunk`; waits only while [`DEPTH`] chunks are already queued.
    /// An error is the writer's (a closed pipe, a full disk).
    pub fn write(&mut self, chunk: Vec<u8>) -> io::Result<()> {
        if chunk.is_empty() {
            return Ok(());
        }
        let sent = self.chunks.as_ref().map(|c| c.send(chunk));
        match sent {
            Some(Ok(())) => Ok(()),
            // The thread stopped at an error: report it.
            _ => self.join(),
        }
    }

    /// Writes what is queued, flushes, and ends the thread.
    pub fn finish(mut self) -> io::Result<()> {
        self.join()
    }

    fn join(&mut self) -> io::Result<()> {
        self.chunks = None;
        match self.thread.take().map(JoinHandle::join) {
            Some(Ok(result)) => result,
            Some(Err(_)) => Err(io::Error::other("the writer thread panicked")),
            None => Err(io::Error::other("the output is already closed")),
        }
    }
}

impl Drop for ChunkWriter {
    fn drop(&mut self) {
        // Let the thread write what it was given and end.
        self.chunks = None;
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    /// A `Write` into shared memory, to check what the thread wrote.
    #[derive(Clone, Default)]
    struct Shared(Arc<Mutex<Vec<u8>>>);

    impl Write for Shared {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.0.lock().expect("lock").extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn chunks_arrive_whole_and_in_order() {
        let input: Vec<u8> = (0..10_000u32).flat_map(|i| i.to_le_bytes()).collect();
        let mut reader = ChunkReader::spawn(io::Cursor::new(input.clone()), 4096).expect("spawn");
        let shared = Shared::default();
        let mut writer = ChunkWriter::spawn(shared.clone()).expect("spawn");
        let mut sizes = Vec::new();
        while let Some(chunk) = reader.next_chunk().expect("read") {
            sizes.push(chunk.len());
            writer.write(chunk).expect("write");
        }
        writer.finish().expect("finish");
        assert_eq!(*shared.0.lock().expect("lock"), input);
        assert_eq!(sizes.len(), 10, "{sizes:?}");
        assert!(sizes[..9].iter().all(|&n| n == 4096), "{sizes:?}");
    }

    #[test]
    fn errors_on_either_side_are_reported() {
        struct Failing;
        impl Read for Failing {
            fn read(&mut self, _: &mut [u8]) -> io::Result<usize> {
                Err(io::Error::other("disk on fire"))
            }
        }
        impl Write for Failing {
            fn write(&mut self, _: &[u8]) -> io::Result<usize> {
                Err(io::Error::new(io::ErrorKind::BrokenPipe, "closed"))
            }
            fn flush(&mut self) -> io::Result<()> {
                Ok(())
            }
        }
        let mut reader = ChunkReader::spawn(Failing, 16).expect("spawn");
        let err = reader.next_chunk().expect_err("read error");
        assert_eq!(err.to_string(), "disk on fire");
        let mut writer = ChunkWriter::spawn(Failing).expect("spawn");
        // The first write is queued; the thread fails on it, and a later
        // write or the finish reports the error.
        let mut result = Ok(());
        for _ in 0..DEPTH + 2 {
            result = writer.write(vec![1]);
            if result.is_err() {
                break;
            }
        }
        let err = result
            .and_then(|()| writer.finish())
            .expect_err("write error");
        assert_eq!(err.kind(), io::ErrorKind::BrokenPipe);
    }
}
