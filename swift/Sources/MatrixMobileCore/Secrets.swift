// The mirrors of the records that carry a secret. Their `description` and
// `debugDescription` come from the core and hide it; `dump`, Xcode's
// variables view and `Mirror(reflecting:)` walk a mirror instead, which
// shows every stored property unless the type gives its own. These show who
// and where, never a token, the store passphrase or a pushkey.

extension Session: CustomReflectable {
    public var customMirror: Mirror {
        Mirror(
            self,
            children: ["userId": userId, "deviceId": deviceId, "homeserverUrl": homeserverUrl],
            displayStyle: .struct)
    }
}

extension ClientConfig: CustomReflectable {
    public var customMirror: Mirror {
        Mirror(
            self,
            children: [
                "homeserverUrl": homeserverUrl, "dataDir": dataDir,
                "requestTimeoutMs": requestTimeoutMs,
                "additionalRootCertificates": additionalRootCertificates.count,
            ],
            displayStyle: .struct)
    }
}

extension PusherConfig: CustomReflectable {
    public var customMirror: Mirror {
        Mirror(
            self,
            children: [
                "appId": appId, "gatewayUrl": gatewayUrl, "deviceName": deviceName, "lang": lang,
            ],
            displayStyle: .struct)
    }
}
