namespace Wevis.LoadTest.Driver;

internal static class Statistics
{
    public static double Median(IEnumerable<double> values)
    {
        double[] sorted = values.Where(v => !double.IsNaN(v)).Order().ToArray();
        if (sorted.Length == 0)
        {
            return double.NaN;
        }

        int middle = sorted.Length / 2;
        return sorted.Length % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
    }
}
