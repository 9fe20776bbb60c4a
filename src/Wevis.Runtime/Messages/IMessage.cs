namespace Wevis;

/// <summary>
/// A Wevis message: a value of one of the message types shared by server and client. Generated records
/// implement it; a connection's <c>Send</c> accepts nothing else.
/// </summary>
/// <remarks>
/// Message types come from a <c>.wevis</c> definitions file or from a <c>[WevisMessage]</c> partial record;
/// the source generator writes this interface's implementation. Handlers pattern-match on the concrete types:
/// <code>
/// switch (message)
/// {
///     case WhatTimeIsIt: connection.Send(new ItIs(now.Hour, now.Minute)); break;
///     case ItIs { Hours: > 12 }: ...
/// }
/// </code>
/// </remarks>
public interface IMessage
{
    /// <summary>The message's type: its name, wire id and arguments, and how to read and write it.</summary>
    MessageDescriptor Descriptor { get; }
}
