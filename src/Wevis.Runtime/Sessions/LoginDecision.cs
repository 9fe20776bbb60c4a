namespace Wevis.Sessions;

/// <summary>What the server decided about one login: the user it accepted, or the reason it gave the client and its class.</summary>
/// <param name="User">The accepted user; null for a rejection.</param>
/// <param name="Reason">Why the login was rejected, as the client is told.</param>
/// <param name="ErrorType">The rejection's class, for metrics (<c>invalid_credentials</c>, <c>throttled</c>, …).</param>
internal readonly record struct LoginDecision(User? User, string? Reason, string? ErrorType = null)
{
    public static LoginDecision Accept(User user) => new(user, null);

    public static LoginDecision Reject(string reason, string errorType) => new(null, reason, errorType);
}
