import Foundation
#if canImport(Glibc)
import Glibc
private let streamSocket = Int32(SOCK_STREAM.rawValue)
#else
import Darwin
private let streamSocket = SOCK_STREAM
#endif

/// A TCP proxy on 127.0.0.1 in front of the homeserver, that a test can kill.
/// Bytes pass untouched both ways (TLS included, so `url` keeps the
/// homeserver's scheme and the client's TLS settings stay the same).
/// `die()` makes the server unreachable for good, as on a phone that lost
/// its network: the listening socket is closed (new connections are refused)
/// and every open connection is cut. Call `die()` when done (a `defer`): its
/// threads hold the proxy until then.
final class TcpProxy: @unchecked Sendable {
    // @unchecked Sendable, proved: `open`, `pumpsEnded` and `dead`, the only
    // stored `var`s, are read and written only between `lock.lock()` and
    // `lock.unlock()`; every other stored property is a `let` of a Sendable
    // type (the file descriptors are plain integers that only this class
    // closes, each exactly once: the listener by the accepting thread, a
    // connection's pair by the last of its two pumps).
    /// `scheme://127.0.0.1:PORT`, what the client connects to.
    let url: String
    private let listener: Int32
    private let upstream: sockaddr_in
    private let lock = NSLock()
    /// The connections' descriptors not closed yet.
    private var open: Set<Int32> = []
    /// For each connection (keyed by the client's descriptor), how many of its two pumps ended.
    private var pumpsEnded: [Int32: Int] = [:]
    private var dead = false
    /// Signalled when the accepting thread has closed the listener.
    private let listenerClosed = DispatchSemaphore(value: 0)

    /// A proxy to `upstreamURL` (`scheme://HOST:PORT`, HOST an IPv4 address or `localhost`).
    init(upstreamURL: String) throws {
        guard let parts = URLComponents(string: upstreamURL), let scheme = parts.scheme,
              let host = parts.host, let port = parts.port else {
            throw HarnessError(description: "cannot proxy \(upstreamURL): no scheme, host or port")
        }
        var target = sockaddr_in()
        target.sin_family = sa_family_t(AF_INET)
        target.sin_port = in_port_t(UInt16(port).bigEndian)
        target.sin_addr.s_addr = inet_addr(host == "localhost" ? "127.0.0.1" : host)
        guard target.sin_addr.s_addr != in_addr_t.max else {
            throw HarnessError(description: "cannot proxy \(upstreamURL): \(host) is not an IPv4 address")
        }
        upstream = target

        let listening = try listenOnLoopback(backlog: 64, what: "the proxy's listener")
        listener = listening.fd
        url = "\(scheme)://127.0.0.1:\(listening.port)"
        Thread.detachNewThread { [self] in acceptConnections() }
    }

    /// The server becomes unreachable: new connections are refused, open
    /// ones cut. Returns once the listener is closed (within 2 s). Idempotent.
    func die() {
        lock.lock()
        let first = !dead
        dead = true
        let cut = open
        lock.unlock()
        if first {
            // The accepting thread sees `dead` within one 100 ms poll.
            _ = listenerClosed.wait(timeout: .now() + 2)
        }
        // Each pump then sees its end and the last of a pair closes both.
        for fd in cut {
            _ = shutdown(fd, Int32(SHUT_RDWR))
        }
    }

    private var isDead: Bool {
        lock.lock()
        defer { lock.unlock() }
        return dead
    }

    /// Accepts until `die()`, polling every 100 ms (a blocked `accept` is
    /// not woken by another thread on every platform); then closes the
    /// listener.
    private func acceptConnections() {
        defer {
            _ = closeSocket(listener)
            listenerClosed.signal()
        }
        while !isDead {
            var ready = pollfd(fd: listener, events: Int16(POLLIN), revents: 0)
            let n = poll(&ready, 1, 100)
            if n < 0 && errno != EINTR {
                return
            }
            guard n > 0 else { continue }
            let client = accept(listener, nil, nil)
            guard client >= 0 else { continue }
            guard let server = connectUpstream() else {
                _ = closeSocket(client)
                continue
            }
            noSigPipe(client)
            noSigPipe(server)
            lock.lock()
            let keep = !dead
            if keep {
                open.formUnion([client, server])
                pumpsEnded[client] = 0
            }
            lock.unlock()
            guard keep else {
                _ = closeSocket(client)
                _ = closeSocket(server)
                return
            }
            Thread.detachNewThread { [self] in pump(from: client, to: server, pair: client) }
            Thread.detachNewThread { [self] in pump(from: server, to: client, pair: client) }
        }
    }

    /// A connected socket to the upstream, or nil.
    private func connectUpstream() -> Int32? {
        let fd = socket(AF_INET, streamSocket, 0)
        guard fd >= 0 else { return nil }
        var target = upstream
        let connected = withUnsafePointer(to: &target) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { raw in
                connect(fd, raw, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
            }
        }
        guard connected else {
            _ = closeSocket(fd)
            return nil
        }
        return fd
    }

    /// Copies `from` to `to` until `from` ends, then ends `to`'s output (a
    /// half close, as TCP passes it on); a failed write cuts `from` too. The
    /// second pump of a connection to end closes both descriptors.
    private func pump(from: Int32, to: Int32, pair: Int32) {
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        copying: while true {
            let n = buffer.withUnsafeMutableBytes { recv(from, $0.baseAddress, $0.count, 0) }
            if n < 0 && errno == EINTR {
                continue
            }
            if n <= 0 {
                break
            }
            var sent = 0
            while sent < n {
                let m = buffer.withUnsafeBytes { bytes in
                    send(to, bytes.baseAddress! + sent, n - sent, sendFlags)
                }
                if m < 0 && errno == EINTR {
                    continue
                }
                if m <= 0 {
                    _ = shutdown(from, Int32(SHUT_RDWR))
                    break copying
                }
                sent += m
            }
        }
        _ = shutdown(to, Int32(SHUT_WR))
        lock.lock()
        let ended = (pumpsEnded[pair] ?? 0) + 1
        pumpsEnded[pair] = ended
        let last = ended == 2
        if last {
            pumpsEnded[pair] = nil
            open.subtract([from, to])
        }
        lock.unlock()
        if last {
            _ = closeSocket(from)
            _ = closeSocket(to)
        }
    }
}

/// The C library's `close`, not a method of the caller.
private func closeSocket(_ fd: Int32) -> Int32 {
    #if canImport(Glibc)
    return Glibc.close(fd)
    #else
    return Darwin.close(fd)
    #endif
}
