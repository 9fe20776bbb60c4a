namespace Wevis.Sessions;

/// <summary>What the server decided about one login: the user it accepted, or the reason it gave the client.</summary>
internal readonly record struct LoginDecision(User? User, string? Reason)
{
    public static LoginDecision Accept(User user) => new(user, null);

    public static LoginDecision Reject(string reason) => new(null, reason);
}
