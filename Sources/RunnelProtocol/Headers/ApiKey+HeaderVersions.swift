extension ApiKey {
    /// Whether `version` of this API uses flexible encodings (compact strings/arrays, tagged fields).
    public func isFlexible(version: Int16) -> Bool {
        guard let start = flexibleVersionsStart else { return false }
        return version >= start
    }

    /// The request header version for `version` of this API (KAFKA-FORMATS.md §1.7): v2 when the request is
    /// flexible, else v1; ControlledShutdown v0 uses header v0.
    ///
    /// Versions above the schema's range are treated by the flexible rule, so an ApiVersions request from a newer
    /// client still has its header (v2) parsed and can be answered with UNSUPPORTED_VERSION.
    public func requestHeaderVersion(for version: Int16) -> Int16 {
        if self == .controlledShutdown && version == 0 { return 0 }
        return isFlexible(version: version) ? 2 : 1
    }

    /// The response header version for `version` of this API (§1.8): v1 when flexible, else v0; ApiVersions
    /// responses always use v0 (KIP-511) so a client can read them before it knows the broker's versions.
    public func responseHeaderVersion(for version: Int16) -> Int16 {
        if self == .apiVersions { return 0 }
        return isFlexible(version: version) ? 1 : 0
    }
}
