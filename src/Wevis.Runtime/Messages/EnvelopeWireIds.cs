namespace Wevis;

/// <summary>
/// The wire ids of the request and reply envelopes (docs/protocol.md, Requests and replies): the FNV-1a ids of the
/// names <c>_Request</c> and <c>_Reply</c>, which no message type may have. Serialization reads and writes the
/// envelopes; a registry refuses a message with one of these ids.
/// </summary>
internal static class EnvelopeWireIds
{
    /// <summary>The wire id of <c>_Request</c>.</summary>
    public const int Request = 616409987;

    /// <summary>The wire id of <c>_Reply</c>.</summary>
    public const int Reply = 259659954;
}
