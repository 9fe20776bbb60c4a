#!/usr/bin/env python3
"""
An optimiser that plays Where is Ben Nevis on a Wevis server: it looks for the highest point of a map it cannot
see by asking the server for heights, within a budget.

It surveys the map with a batch of random points, then climbs from the highest few of them that lie far apart
(each likely on another mountain) with Nelder-Mead: SciPy's ``scipy.optimize.minimize`` if SciPy is installed, else
the plain-Python one below. That is a "multi-start" global method; a single climb would stop on the first top.

It plays one match by the rules of samples/BenNevis/README.md: from the lobby it sends ``Play`` and waits for the
match to start (``MatchStarted``), asks for heights with ``Ask``/``AskMany`` until its budget is spent, says
``Done``, and prints the end of the match (``MatchOver``, where the summit is revealed), the scores and the
leaderboard. Run a server with ``dotnet run --project samples/BenNevis -- server`` (a match takes 4 players, or
starts after 10 s with whoever is there; ``--players 1`` starts one at once).

Usage: bennevis_optimiser.py [--host localhost] [--port 12121] [--name py] [--password bennevis]
                             [--seed 1] [--no-scipy] [--definitions PATH]
"""
import argparse
import math
import random
import sys
from pathlib import Path

try:
    import wevis
except ImportError:  # Run from the repository without installing the package.
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / 'src'))
    import wevis

VERSION = '2.0.0'
DEFINITIONS = Path(__file__).resolve().parents[3] / 'samples' / 'BenNevis' / 'bennevis.wevis'


class SearchOver(Exception):
    """
    No more heights: the budget is spent, or the server refused a query or ended the match (the time is up, say).
    The search stops and keeps the best point found.
    """


class Heights:
    """
    The objective: heights from the server, one evaluation each, with the map's bounds and the budget. It remembers
    the best point asked about, whatever the optimiser does with the answers.
    """

    def __init__(self, ask_one, ask_many, width, length, budget):
        self._ask_one, self._ask_many = ask_one, ask_many
        self.width, self.length, self.left = width, length, budget
        self.best = (None, None, -math.inf)

    def clamp(self, x, y):
        return min(max(x, 0.0), self.width), min(max(y, 0.0), self.length)

    def at(self, x, y):
        if self.left < 1:
            raise SearchOver()
        x, y = self.clamp(x, y)
        metres, left = self._ask_one(x, y)
        self.left = self.left - 1 if left is None else left  # None: the answer does not say
        self._note(x, y, metres)
        return metres

    def many(self, points):
        points = [self.clamp(x, y) for x, y in points[:self.left]]
        if not points:
            raise SearchOver()
        metres, self.left = self._ask_many(points)
        for (x, y), h in zip(points, metres):
            self._note(x, y, h)
        return list(zip(points, metres))

    def _note(self, x, y, metres):
        if metres > self.best[2]:
            self.best = (x, y, metres)


def nelder_mead(f, start, step, max_evaluations, tolerance=0.01):
    """Minimises ``f`` from ``start`` with the Nelder-Mead simplex method (plain Python, any dimension)."""
    n = len(start)
    simplex = [list(start)] + [[start[j] + (step if j == i else 0.0) for j in range(n)] for i in range(n)]
    values = [f(p) for p in simplex]
    evaluations = n + 1
    while evaluations < max_evaluations:
        order = sorted(range(n + 1), key=values.__getitem__)
        simplex, values = [simplex[i] for i in order], [values[i] for i in order]
        if max(abs(a - b) for p in simplex[1:] for a, b in zip(p, simplex[0])) < tolerance:
            break
        centre = [sum(p[j] for p in simplex[:-1]) / n for j in range(n)]
        worst = simplex[-1]
        reflected = [c + (c - w) for c, w in zip(centre, worst)]
        fr = f(reflected)
        evaluations += 1
        if fr < values[0]:
            expanded = [c + 2 * (c - w) for c, w in zip(centre, worst)]
            fe = f(expanded)
            evaluations += 1
            simplex[-1], values[-1] = (expanded, fe) if fe < fr else (reflected, fr)
        elif fr < values[-2]:
            simplex[-1], values[-1] = reflected, fr
        else:
            towards = reflected if fr < values[-1] else worst
            contracted = [c + (t - c) / 2 for c, t in zip(centre, towards)]
            fc = f(contracted)
            evaluations += 1
            if fc < min(fr, values[-1]):
                simplex[-1], values[-1] = contracted, fc
            else:
                for i in range(1, n + 1):
                    simplex[i] = [b + (p - b) / 2 for b, p in zip(simplex[0], simplex[i])]
                    values[i] = f(simplex[i])
                evaluations += n
    best = min(range(n + 1), key=values.__getitem__)
    return simplex[best], values[best]


def climb(heights, start, step, evaluations, use_scipy):
    """Climbs from ``start`` for at most ``evaluations`` heights, with SciPy's Nelder-Mead or the one above."""
    def objective(p):
        return -heights.at(p[0], p[1])

    if use_scipy:
        from scipy.optimize import minimize
        x, y = start
        minimize(objective, [x, y], method='Nelder-Mead', bounds=[(0, heights.width), (0, heights.length)],
                 options={'maxfev': evaluations, 'xatol': 0.01, 'fatol': 0.1,
                          'initial_simplex': [[x, y], [x + step, y], [x, y + step]]})
    else:
        nelder_mead(objective, list(start), step, evaluations)


def search(heights, rng, use_scipy, starts=8, distance=40.0, step=5.0):
    """The multi-start search: a survey, then climbs from the highest far-apart survey points, then a last climb."""
    try:
        survey = heights.many([(rng.uniform(0, heights.width), rng.uniform(0, heights.length))
                               for _ in range(max(1, heights.left // 5))])
        chosen = []
        for (x, y), h in sorted(survey, key=lambda s: -s[1]):
            if len(chosen) < starts and all(math.hypot(x - cx, y - cy) >= distance for cx, cy in chosen):
                chosen.append((x, y))
        share = max(10, heights.left // 2 // max(1, len(chosen)))
        for start in chosen:
            climb(heights, start, step, share, use_scipy)
        while heights.left > 0:
            climb(heights, heights.best[:2], step / 5, heights.left, use_scipy)
    except SearchOver:
        pass
    return heights.best


def play_match(client, rng, use_scipy):
    """A match: join one from the lobby, ask within the budget, say Done, and read the end, which reveals the summit."""
    client.q('Play')
    while True:
        message = client.receive_blocking('MatchWaiting', 'MatchStarted', 'Refused')
        if message.name == 'Refused':
            raise RuntimeError(f'The server refused: {message.get("reason")}')
        if message.name == 'MatchStarted':
            break
        players, capacity, seconds = message.get('players', 'capacity', 'seconds')
        print(f'Waiting for players: {players} of {capacity}; the match starts when full, or in {seconds:.0f} s.')
    width, length, budget = message.get('width', 'length', 'budget')
    print(f'Match {message.get("match")} started with {message.get("players")} player(s): {width:.0f} x {length:.0f} km, '
          f'{budget} evaluations.')
    ended = []  # the MatchOver, if it comes while the optimiser still asks

    def answer(name):
        message = client.receive_blocking()
        if message.name == 'MatchOver':
            ended.append(message)
            raise SearchOver()
        if message.name == 'Refused':
            print(f'The server refused: {message.get("reason")}')
            raise SearchOver()
        if message.name != name:
            raise wevis.UnexpectedMessageError([name], message)
        return message

    def ask_one(x, y):
        client.q('Ask', x=x, y=y, gradient=False)
        a = answer('Answer')
        return a.get('metres'), a.get('remaining')

    def ask_many(points):
        client.q('AskMany', xs=[p[0] for p in points], ys=[p[1] for p in points])
        a = answer('Answers')
        return a.get('metres'), a.get('remaining')

    x, y, metres = search(Heights(ask_one, ask_many, width, length, budget), rng, use_scipy)
    client.q('Done')
    if x is not None:
        print(f'{client.username} found {metres:.0f} m at ({x:.2f} km east, {y:.2f} km north).')
    over = ended[0] if ended else _next(client, 'MatchOver')
    sx, sy, sm = over.get('summit_x', 'summit_y', 'summit_metres')
    print(f'Match {over.get("match")} is over ({over.get("reason")}); the summit is {sm:.0f} m at ({sx:.2f}, {sy:.2f}) km; '
          f'{over.get("winner")} won.')
    scores = [client.receive_blocking('PlayerScore') for _ in range(over.get('players'))]
    for s in scores:
        print(f'{s.get("rank"):3}. {s.get("name"):<12} {s.get("metres"):6.0f} m after {s.get("evaluations_to_best")} evaluations')
    table = client.receive_blocking('LeaderboardTable')
    rows = [client.receive_blocking('LeaderboardRow') for _ in range(table.get('count'))]
    print('Leaderboard:')
    for r in rows:
        print(f'{r.get("rank"):3}. {r.get("name"):<12} {r.get("mean_metres"):6.0f} m mean, {r.get("best_metres"):6.0f} m best, '
              f'{r.get("wins")} of {r.get("matches")} won')
    return over, scores


def _next(client, name):
    """The next message called ``name``, passing over refusals of queries sent before the match ended."""
    while True:
        message = client.receive_blocking(name, 'Refused')
        if message.name == name:
            return message


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--host', default='localhost')
    parser.add_argument('--port', type=int, default=wevis.DEFAULT_PORT)
    parser.add_argument('--name', default='py')
    parser.add_argument('--password', default='bennevis')
    parser.add_argument('--seed', type=int, default=1)
    parser.add_argument('--no-scipy', action='store_true', help='use the plain-Python Nelder-Mead even if SciPy is installed')
    parser.add_argument('--definitions', default=str(DEFINITIONS), help='the game\'s .wevis file')
    args = parser.parse_args(argv)

    use_scipy = not args.no_scipy
    if use_scipy:
        try:
            import scipy.optimize  # noqa: F401
        except ImportError:
            use_scipy = False
    print(f'Climbing with {"SciPy" if use_scipy else "plain-Python"} Nelder-Mead.')

    definitions = wevis.DefinitionList.from_file(args.definitions)
    client = wevis.Client(args.name, args.password, VERSION, args.host, args.port, definitions=definitions)
    try:
        client.start_blocking(timeout=30)
        play_match(client, random.Random(args.seed), use_scipy)
    except wevis.LoginRejectedError as e:
        print(f'Login rejected: {e.reason}', file=sys.stderr)
        return 1
    except (wevis.ClientError, RuntimeError) as e:
        print(e, file=sys.stderr)
        return 1
    finally:
        client.stop()
    return 0


if __name__ == '__main__':
    sys.exit(main())
