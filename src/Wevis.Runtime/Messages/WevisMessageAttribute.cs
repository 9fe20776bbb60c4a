namespace Wevis;

/// <summary>
/// Makes a <c>partial record</c> a Wevis message, as if it were a line of a definitions file: the generator
/// adds its formatter and registry entry. Its primary constructor's parameters are the arguments, in order.
/// </summary>
/// <remarks>
/// The attribute's arguments make the same choices a definitions line makes: who sends the message
/// (<c>client:</c> or <c>server:</c>), and which messages answer it (<c>-&gt; YouAre</c>). A parameter's
/// <see cref="WevisBoundAttribute"/> bounds it (<c>name=str(32)</c>).
/// </remarks>
/// <example>
/// <code>
/// [WevisMessage]
/// public partial record Move(int X, int Y);
///
/// [WevisMessage(MessageDirection.ClientToServer, Replies = [typeof(Joined), typeof(Full)])]
/// public partial record Join([WevisBound(32)] string Room);
/// </code>
/// </example>
[AttributeUsage(AttributeTargets.Class, Inherited = false, AllowMultiple = false)]
public sealed class WevisMessageAttribute : Attribute
{
    /// <summary>A message sent either way, as a definitions line without <c>client:</c> or <c>server:</c>.</summary>
    public WevisMessageAttribute()
        : this(MessageDirection.Both)
    {
    }

    /// <summary>A message sent in <paramref name="direction"/>.</summary>
    /// <param name="direction">Who sends it: <see cref="MessageDirection.ClientToServer"/> as <c>client:</c>, <see cref="MessageDirection.ServerToClient"/> as <c>server:</c>.</param>
    public WevisMessageAttribute(MessageDirection direction) => Direction = direction;

    /// <summary>Who sends the message.</summary>
    public MessageDirection Direction { get; }

    /// <summary>
    /// The message types that answer it, which makes it a request (<c>-&gt; Joined | Full</c>): Wevis messages of this
    /// program, sent by the server.
    /// </summary>
    public Type[]? Replies { get; set; }
}
