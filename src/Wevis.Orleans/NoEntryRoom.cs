namespace Wevis.Orleans;

/// <summary>
/// The entry room a node's own directory and its gateway's server are made with: never entered, because on a
/// cluster the entry room is the grain <c>lobby</c>, which may live on another node.
/// </summary>
internal sealed class NoEntryRoom : Room;
