namespace Wevis.Runtime.Tests.Networking;

/// <summary>The salted hash the login uses, as the original defined it.</summary>
public class CredentialsTests
{
    [Fact]
    public void EncryptIsTheHexSha512OfPasswordThenSalt()
    {
        Assert.Equal(
            "1d52d80676d8007c9e560f9d72a4f743d06eaa8fb7433968f113d4a64d081a754170a599e198a122a0d19ad680f110c278cf806d2e384475c9849cc82840518e",
            Credentials.Encrypt("mypassword", "0123abcd"));
    }

    [Fact]
    public void VerifyAcceptsOnlyTheRightHash()
    {
        string salt = Credentials.NewSalt();
        string sent = Credentials.Encrypt("mypassword", salt);

        Assert.True(Credentials.Verify(sent, "mypassword", salt));
        Assert.False(Credentials.Verify(sent, "mypassword", Credentials.NewSalt()));
        Assert.False(Credentials.Verify(sent, "other", salt));
        Assert.False(Credentials.Verify(sent[..^1], "mypassword", salt));
        Assert.False(Credentials.Verify(sent.ToUpperInvariant(), "mypassword", salt));
        Assert.False(Credentials.Verify("é" + sent[1..], "mypassword", salt));
        Assert.False(Credentials.Verify(string.Empty, "mypassword", salt));
    }

    [Fact]
    public void SaltsAreRandomAndLongEnough()
    {
        HashSet<string> salts = [.. Enumerable.Range(0, 1000).Select(_ => Credentials.NewSalt())];
        Assert.Equal(1000, salts.Count);
        Assert.All(salts, s => Assert.Matches("^[0-9a-f]{32}$", s));
    }
}
