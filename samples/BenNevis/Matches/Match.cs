using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using BenNevis.Maps;

namespace BenNevis.Matches;

/// <summary>
/// One match of Where is Ben Nevis, as plain rules: the players ask for heights within a budget of evaluations and a
/// time limit, each keeps the highest point they found as their score, and when everyone is out of budget, done, or
/// gone, or the time is up, the match is over: then, and only then, <see cref="Result"/> reveals the summit and the
/// ranking. It knows nothing of connections or messages; a room calls it and sends what it returns.
/// </summary>
/// <remarks>
/// <para>Time comes from the <see cref="TimeProvider"/> given: every call first checks the deadline, and
/// <see cref="Tick"/> checks it without a query, so a room that ticks ends a match on time even when no one asks.</para>
/// <para>Not thread-safe: call it from one thread at a time (a room's turn).</para>
/// </remarks>
public sealed class Match
{
    private readonly HeightGrid _map;
    private readonly TimeProvider _time;
    private readonly Dictionary<string, PlayerState> _players = new(StringComparer.Ordinal);
    private MatchResult? _result;

    /// <summary>Starts a match now, for <paramref name="players"/>, on <paramref name="map"/>.</summary>
    /// <exception cref="ArgumentException">No players, or a name twice.</exception>
    public Match(int id, HeightGrid map, MatchRules rules, IReadOnlyList<string> players, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(map);
        ArgumentNullException.ThrowIfNull(rules);
        ArgumentNullException.ThrowIfNull(players);
        ArgumentNullException.ThrowIfNull(time);
        rules.Validate();
        if (players.Count == 0)
        {
            throw new ArgumentException("A match needs at least one player.", nameof(players));
        }

        foreach (string player in players)
        {
            if (!_players.TryAdd(player, new PlayerState(rules.Budget)))
            {
                throw new ArgumentException($"{player} is in the list of players twice.", nameof(players));
            }
        }

        Id = id;
        _map = map;
        _time = time;
        Rules = rules;
        Players = [.. players];
        StartedAt = time.GetUtcNow();
        Opening = new MatchOpening(id, map.Width, map.Length, rules.Budget, rules.GradientCost, rules.TimeLimit, Players.Count);
    }

    /// <summary>The match's number.</summary>
    public int Id { get; }

    /// <summary>The rules it is played by.</summary>
    public MatchRules Rules { get; }

    /// <summary>The players, in the order they joined.</summary>
    public IReadOnlyList<string> Players { get; }

    /// <summary>When the match started.</summary>
    public DateTimeOffset StartedAt { get; }

    /// <summary>When the time is up.</summary>
    public DateTimeOffset Deadline => StartedAt + Rules.TimeLimit;

    /// <summary>What every player is told when the match starts: everything but where the summit is.</summary>
    public MatchOpening Opening { get; }

    /// <summary>Whether the match has ended.</summary>
    public bool IsOver => _result is not null;

    /// <summary>How the match went: the summit and the ranking.</summary>
    /// <exception cref="InvalidOperationException">The match is not over: nothing about the summit is told before.</exception>
    public MatchResult Result => _result ?? throw new InvalidOperationException($"Match {Id} is not over; its result is not known yet.");

    /// <summary>The evaluations <paramref name="player"/> has left.</summary>
    /// <exception cref="ArgumentException">Not a player of this match.</exception>
    public int Remaining(string player) => Get(player).Remaining;

    /// <summary>
    /// Answers <paramref name="player"/>'s query for the height at (<paramref name="x"/>, <paramref name="y"/>), and the
    /// gradient there if <paramref name="gradient"/>; charges 1 evaluation, or 1 + <see cref="MatchRules.GradientCost"/>.
    /// </summary>
    /// <returns>True with the answer; false with the reason it was refused (nothing is charged then).</returns>
    /// <exception cref="ArgumentException">Not a player of this match.</exception>
    public bool TryAsk(string player, double x, double y, bool gradient, out QueryAnswer answer, [NotNullWhen(false)] out string? refusal)
    {
        PlayerState state = Get(player);
        answer = default;
        int cost = 1 + (gradient ? Rules.GradientCost : 0);
        if (!CanAsk(state, cost, gradient ? "a height with its gradient" : "a height", out refusal) || !CheckOnMap(x, y, out refusal))
        {
            return false;
        }

        Measurement measured = gradient ? _map.Measure(x, y) : new Measurement(_map.HeightAt(x, y), double.NaN, double.NaN);
        Record(state, x, y, measured.Metres, cost);
        answer = new QueryAnswer(x, y, measured.Metres, measured.East, measured.North, state.Remaining);
        EndIfEveryoneIsDone();
        return true;
    }

    /// <summary>
    /// Answers a batch: the heights at (<paramref name="xs"/>[i], <paramref name="ys"/>[i]), in the same order; charges
    /// one evaluation a point. A batch is answered whole or refused whole.
    /// </summary>
    /// <returns>True with the heights; false with the reason it was refused (nothing is charged then).</returns>
    /// <exception cref="ArgumentException">Not a player of this match.</exception>
    public bool TryAskMany(string player, ReadOnlySpan<double> xs, ReadOnlySpan<double> ys, [NotNullWhen(true)] out double[]? metres, [NotNullWhen(false)] out string? refusal)
    {
        PlayerState state = Get(player);
        metres = null;
        if (xs.Length != ys.Length)
        {
            refusal = $"Asked for {xs.Length} x and {ys.Length} y coordinates; give one of each per point.";
            return false;
        }

        if (xs.Length > Rules.MaxBatch)
        {
            refusal = $"Asked for {xs.Length} points in one batch; at most {Rules.MaxBatch}.";
            return false;
        }

        if (!CanAsk(state, xs.Length, $"{xs.Length} heights", out refusal))
        {
            return false;
        }

        for (int i = 0; i < xs.Length; i++)
        {
            if (!CheckOnMap(xs[i], ys[i], out refusal))
            {
                refusal = $"Point {i}: {refusal}";
                return false;
            }
        }

        metres = new double[xs.Length];
        for (int i = 0; i < xs.Length; i++)
        {
            metres[i] = _map.HeightAt(xs[i], ys[i]);
            Record(state, xs[i], ys[i], metres[i], 1);
        }

        EndIfEveryoneIsDone();
        return true;
    }

    /// <summary><paramref name="player"/> says they will ask for nothing more; their score stands.</summary>
    /// <exception cref="ArgumentException">Not a player of this match.</exception>
    public void Finish(string player)
    {
        CheckTime();
        Get(player).Done = true;
        EndIfEveryoneIsDone();
    }

    /// <summary><paramref name="player"/> has gone (disconnected, say); their score stands.</summary>
    /// <exception cref="ArgumentException">Not a player of this match.</exception>
    public void Leave(string player)
    {
        CheckTime();
        PlayerState state = Get(player);
        state.Done = true;
        state.Left = true;
        EndIfEveryoneIsDone();
    }

    /// <summary>Ends the match if its time is up; a room calls this on its ticks.</summary>
    public void Tick() => CheckTime();

    private bool CanAsk(PlayerState state, int cost, string what, [NotNullWhen(false)] out string? refusal)
    {
        CheckTime();
        refusal = _result is { End: MatchEnd.TimeUp } ? string.Create(CultureInfo.InvariantCulture, $"Time is up: match {Id} lasted its {Rules.TimeLimit.TotalSeconds:0.###} s.")
            : _result is not null ? $"Match {Id} is over."
            : state.Left ? "You have left this match."
            : state.Done ? "You said you were done in this match."
            : cost > state.Remaining ? $"Asked for {what} ({cost} evaluation{(cost == 1 ? string.Empty : "s")}) with {state.Remaining} left in your budget."
            : null;
        return refusal is null;
    }

    private bool CheckOnMap(double x, double y, [NotNullWhen(false)] out string? refusal)
    {
        refusal = _map.Contains(x, y) ? null
            : string.Create(CultureInfo.InvariantCulture, $"({x}, {y}) is not on the map, which runs from 0 to {_map.Width} km east (x) and 0 to {_map.Length} km north (y).");
        return refusal is null;
    }

    private static void Record(PlayerState state, double x, double y, double metres, int cost)
    {
        state.Remaining -= cost;
        state.Trail.Add(new Point(x, y, metres));
        if (state.Best is null || metres > state.Best.Value.Metres)
        {
            state.Best = new Point(x, y, metres);
            state.EvaluationsToBest = state.Spent;
        }
    }

    private void CheckTime()
    {
        if (_result is null && _time.GetUtcNow() >= Deadline)
        {
            End(MatchEnd.TimeUp);
        }
    }

    private void EndIfEveryoneIsDone()
    {
        if (_result is null && _players.Values.All(state => state.Done || state.Remaining < 1))
        {
            End(MatchEnd.EveryoneDone);
        }
    }

    private void End(MatchEnd end)
    {
        var ranked = Players
            .Select((name, joined) => (Name: name, Joined: joined, State: _players[name]))
            .OrderBy(p => p.State.Best is null)
            .ThenByDescending(p => p.State.Best?.Metres)
            .ThenBy(p => p.State.EvaluationsToBest)
            .ThenBy(p => p.Joined)
            .Select((p, k) => new PlayerResult(k + 1, p.Name, p.State.Best, p.State.EvaluationsToBest, p.State.Spent, p.State.Left))
            .ToList();
        _result = new MatchResult(
            Id,
            _map.Summit,
            end,
            _time.GetUtcNow() - StartedAt,
            Players,
            ranked,
            Players.ToDictionary(name => name, name => (IReadOnlyList<Point>)_players[name].Trail, StringComparer.Ordinal));
    }

    private PlayerState Get(string player) =>
        _players.TryGetValue(player, out PlayerState? state) ? state : throw new ArgumentException($"{player} is not playing in match {Id}.", nameof(player));

    private sealed class PlayerState(int budget)
    {
        public int Budget { get; } = budget;

        public int Remaining { get; set; } = budget;

        public int Spent => Budget - Remaining;

        public List<Point> Trail { get; } = [];

        public Point? Best { get; set; }

        public int EvaluationsToBest { get; set; }

        public bool Done { get; set; }

        public bool Left { get; set; }
    }
}

/// <summary>What every player of a match is told at its start.</summary>
/// <param name="Match">The match's number.</param>
/// <param name="Width">The map's extent west to east, km (x runs from 0 to this).</param>
/// <param name="Length">The map's extent south to north, km (y runs from 0 to this).</param>
/// <param name="Budget">Evaluations each player may spend.</param>
/// <param name="GradientCost">Evaluations a gradient costs on top of its height's 1.</param>
/// <param name="TimeLimit">How long the match lasts at most.</param>
/// <param name="Players">How many play.</param>
public sealed record MatchOpening(int Match, double Width, double Length, int Budget, int GradientCost, TimeSpan TimeLimit, int Players);

/// <summary>The answer to a query: the place, its height (m), the gradient (m per km; NaN unless asked for), and the evaluations left.</summary>
public readonly record struct QueryAnswer(double X, double Y, double Metres, double East, double North, int Remaining);
