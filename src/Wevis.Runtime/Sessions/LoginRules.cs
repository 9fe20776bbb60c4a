namespace Wevis.Sessions;

/// <summary>The server's login settings, taken from its options when it starts.</summary>
/// <param name="LoginTimeout">How long a connection has to log in, TLS included.</param>
/// <param name="MaxConnectionsPerUser">How many connections one user may have open.</param>
/// <param name="MaxFailedLoginsPerAddress">Failed logins one address may make within the window; 0 turns the throttle off.</param>
/// <param name="FailedLoginWindow">The window over which failed logins are counted.</param>
internal sealed record LoginRules(TimeSpan LoginTimeout, int MaxConnectionsPerUser, int MaxFailedLoginsPerAddress, TimeSpan FailedLoginWindow);
