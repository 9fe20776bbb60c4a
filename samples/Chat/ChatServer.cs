namespace Wevis.Samples.Chat;

/// <summary>The chat server: the lobby as entry room, channels as a room type, and anyone may log in with the shared password.</summary>
internal static class ChatServer
{
    public const string Version = "1";
    public const string Password = "chat";

    /// <summary>A client of the chat server, speaking the chat's messages.</summary>
    public static Client CreateClient(string user, string host, int port) =>
        new(user, Password, Version, host, port, new ClientOptions { Messages = WevisRegistry.Messages });

    /// <summary>A server for the chat, not yet started.</summary>
    public static Server Create(ServerOptions options, TimeSpan? idleTimeout = null)
    {
        TimeSpan idle = idleTimeout ?? TimeSpan.FromMinutes(10);

        // This program's messages only, by name, so that it runs beside other programs' messages in one process (the tests).
        options.Messages ??= WevisRegistry.Messages;
        var server = new Server(Validate, new LobbyRoom(), options);
        // Channels are made by the rooms' own code, with the name the user asked for, so clients do not create them directly.
        server.Rooms.Define(ChatRoomBase.ChannelType, () => new ChannelRoom(idle), new RoomTypeOptions { Capacity = 100, ClientsMayCreate = false });
        return server;
    }

    private static LoginResult Validate(string username, string password, string salt, string version)
    {
        if (version != Version)
        {
            return $"This server speaks chat version {Version}; the client is version {version}.";
        }

        if (username.Length > 20 || !username.All(char.IsAsciiLetterOrDigit))
        {
            return "A user name has 1 to 20 letters or digits.";
        }

        return Credentials.Verify(password, Password, salt) ? new User(username) : null;
    }
}
