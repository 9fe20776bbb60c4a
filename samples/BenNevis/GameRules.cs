using Wevis;

namespace BenNevis;

/// <summary>How a game is played.</summary>
/// <param name="Players">How many guesses end a game; the final leaderboard follows the last one.</param>
/// <param name="Budget">How many heights each player may ask for in one game (a batch of n points counts n).</param>
public sealed record GameRules(int Players = 3, int Budget = 1000)
{
    /// <summary>The version the game's clients send when they log in.</summary>
    public const string Version = "1.0.0";

    /// <summary>The password to join a game unless the server is told another.</summary>
    public const string DefaultPassword = "bennevis";

    /// <summary>The longest player name.</summary>
    public const int MaxNameLength = 32;

    /// <summary>A validator that lets in anyone who knows <paramref name="gamePassword"/>, under the name they give.</summary>
    public static LoginValidator Login(string gamePassword) =>
        (username, password, salt, version) =>
            version != Version ? $"This server plays version {Version}; the client is version {version}."
            : username.Length > MaxNameLength ? $"Names are at most {MaxNameLength} characters."
            : Credentials.Verify(password, gamePassword, salt) ? new User(username)
            : "Wrong game password.";
}
