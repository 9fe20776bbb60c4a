using Wevis;

namespace BenNevis.Rooms;

/// <summary>
/// The Where is Ben Nevis server: the lobby as its entry room, matches as a room type (made by join-or-create, as many
/// at once as players fill), and anyone who knows the game's password may log in under the name they give.
/// </summary>
public static class GameServer
{
    /// <summary>The version the game's clients send when they log in.</summary>
    public const string Version = "2.0.0";

    /// <summary>The password to join unless the server is told another.</summary>
    public const string DefaultPassword = "bennevis";

    /// <summary>The longest player name.</summary>
    public const int MaxNameLength = 32;

    /// <summary>The room type of matches.</summary>
    public const string MatchType = "match";

    /// <summary>
    /// A server for the game, not yet started: players log in to the lobby and send <c>Play</c> to join a match.
    /// <paramref name="history"/> numbers the matches, keeps the leaderboard and hears of each match that ends.
    /// </summary>
    public static Server Create(MatchSettings settings, MatchHistory history, ServerOptions options, string password = DefaultPassword)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(history);
        ArgumentNullException.ThrowIfNull(options);
        settings.Validate();
        // This program's messages only, so that it runs beside other programs' messages in one process (the tests).
        options.Messages ??= WevisRegistry.Messages;
        var server = new Server(Login(password), new LobbyRoom(history), options);
        // Players are put into matches by the lobby only (Play), never by asking for a room themselves.
        server.Rooms.Define(
            MatchType,
            () => new MatchRoom(settings, history),
            new RoomTypeOptions { Capacity = settings.Players, ClientsMayJoin = false, ClientsMayCreate = false });
        return server;
    }

    /// <summary>A client of the game, speaking its messages; not yet connected.</summary>
    public static Client CreateClient(string name, string host, int port, string password = DefaultPassword) =>
        new(name, password, Version, host, port, new ClientOptions { Messages = WevisRegistry.Messages });

    /// <summary>A validator that lets in anyone who knows <paramref name="gamePassword"/>, under the name they give.</summary>
    public static LoginValidator Login(string gamePassword) =>
        (username, password, salt, version) =>
            version != Version ? $"This server plays version {Version}; the client is version {version}."
            : username.Length is 0 or > MaxNameLength ? $"Names have 1 to {MaxNameLength} characters."
            : Credentials.Verify(password, gamePassword, salt) ? new User(username)
            : "Wrong game password.";
}
