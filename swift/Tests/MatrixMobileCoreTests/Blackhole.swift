import Foundation
#if canImport(Glibc)
import Glibc
private let streamSocket = Int32(SOCK_STREAM.rawValue)
/// `send` without SIGPIPE when the peer is gone.
let sendFlags = Int32(MSG_NOSIGNAL)
#else
import Darwin
private let streamSocket = SOCK_STREAM
/// Darwin has no MSG_NOSIGNAL: each socket gets SO_NOSIGPIPE instead (`noSigPipe`).
let sendFlags: Int32 = 0
#endif

/// A TCP listener on 127.0.0.1 that never accepts: connections complete in
/// the kernel's backlog, requests are sent, and no answer ever comes. Closed
/// when released.
final class Blackhole {
    /// `http://127.0.0.1:PORT`.
    let url: String
    private let fd: Int32

    init() throws {
        let (fd, port) = try listenOnLoopback(backlog: 128, what: "a blackhole listener")
        self.fd = fd
        url = "http://127.0.0.1:\(port)"
    }

    deinit {
        _ = closeDescriptor(fd)
    }
}

/// A TCP socket listening on 127.0.0.1 at a port the kernel picks: the
/// socket and its port. `what` names it in the error.
func listenOnLoopback(backlog: Int32, what: String) throws -> (fd: Int32, port: UInt16) {
    let fd = socket(AF_INET, streamSocket, 0)
    guard fd >= 0 else {
        throw HarnessError(description: "socket() failed: errno \(errno)")
    }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = 0
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let ok = withUnsafeMutablePointer(to: &address) { pointer in
        pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { raw in
            bind(fd, raw, length) == 0 && listen(fd, backlog) == 0 && getsockname(fd, raw, &length) == 0
        }
    }
    guard ok else {
        let code = errno
        _ = closeDescriptor(fd)
        throw HarnessError(description: "binding \(what) failed: errno \(code)")
    }
    return (fd, UInt16(bigEndian: address.sin_port))
}

/// No SIGPIPE for writes to `fd` once its peer is gone (Darwin; Linux passes
/// MSG_NOSIGNAL in `sendFlags`).
func noSigPipe(_ fd: Int32) {
    #if !canImport(Glibc)
    var on: Int32 = 1
    _ = setsockopt(fd, SOL_SOCKET, SO_NOSIGPIPE, &on, socklen_t(MemoryLayout<Int32>.size))
    #endif
}

/// The C library's `close`, not a method of the caller.
func closeDescriptor(_ fd: Int32) -> Int32 {
    #if canImport(Glibc)
    return Glibc.close(fd)
    #else
    return Darwin.close(fd)
    #endif
}
