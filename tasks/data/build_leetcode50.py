"""Build tasks/data/leetcode50.jsonl: the project's own LeetCode-style problems (statements written
for evalkit, not copied), with reference solutions, visible and hidden tests, lexical flips and jargon
variants.

Every expected value is computed here by running the reference (never typed by hand). Test inputs
come from hand-picked edge cases plus a per-problem seeded random generator. For a problem with a
lexical flip (a pivotal word such as largest -> smallest), the flipped tests keep only inputs where
the original and the flipped reference DISAGREE, and the original hidden tests are drawn preferring
such inputs, so each oracle tells the two tasks apart.

    .venv/bin/python tasks/data/build_leetcode50.py            # rewrite the JSONL
    .venv/bin/python tasks/data/build_leetcode50.py --check    # fail if the JSONL differs from a rebuild
"""

from __future__ import annotations

import argparse
import copy
import json
import random
import sys
import textwrap
import zlib
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]  # tasks/data/ -> the checkout
sys.path.insert(0, str(REPO))

from evalkit.code.mutations import jargon_variants, replace_word  # noqa: E402

OUT = Path(__file__).resolve().parent / "leetcode50.jsonl"
N_HIDDEN = 10  # hidden tests per oracle (at least 8 required)
N_POOL = 600  # random candidate inputs per problem

PROBLEMS: list[dict] = []


def problem(slug, title, signature, statement, reference, gen, visible, edge=(), flip=None):
    PROBLEMS.append(dict(slug=slug, title=title, signature=signature, statement=textwrap.dedent(statement).strip(),
                         reference=textwrap.dedent(reference).strip() + "\n", gen=gen, visible=list(visible),
                         edge=list(edge), flip=flip))


def flipped(frm, to, reference, statement=None, occurrences=1):
    """`occurrences`: how many times the pivotal word occurs in the statement (all are flipped);
    checked, so a flip never silently rewrites an unrelated phrase (such as "at most" for most)."""
    return dict(frm=frm, to=to, reference=textwrap.dedent(reference).strip() + "\n",
                statement=textwrap.dedent(statement).strip() if statement else None, occurrences=occurrences)


def ints(r, lo, hi, nlo, nhi):
    return [r.randint(lo, hi) for _ in range(r.randint(nlo, nhi))]


def word(r, alphabet, lo, hi):
    return "".join(r.choice(alphabet) for _ in range(r.randint(lo, hi)))


def bits(r, rows, cols, p=0.5):
    return [[1 if r.random() < p else 0 for _ in range(cols)] for _ in range(rows)]


# ------------------------------------------------------------------------------------------ arrays

problem(
    "max_gap", "Widest Neighbour Gap", "def max_gap(nums: list[int]) -> int:",
    """
    Given a list of integers `nums`, imagine its values sorted in non-decreasing order. Return the
    largest difference between two neighbouring values of that sorted order. If `nums` has fewer than
    two elements, return 0.

    Constraints: `nums` has between 0 and 10^4 elements, each between -10^6 and 10^6.
    """,
    """
    def max_gap(nums: list[int]) -> int:
        if len(nums) < 2:
            return 0
        s = sorted(nums)
        return max(b - a for a, b in zip(s, s[1:]))
    """,
    lambda r: [ints(r, -40, 40, 2, 10)],
    visible=[[[3, 9, 1, 4]], [[5]], [[-2, 10, 4, 7]]],
    edge=[[[]], [[8, 8]], [[1, 1000000]], [[-5, 0, 5, 10]]],
    flip=flipped("largest", "smallest", """
    def max_gap(nums: list[int]) -> int:
        if len(nums) < 2:
            return 0
        s = sorted(nums)
        return min(b - a for a, b in zip(s, s[1:]))
    """),
)

problem(
    "best_subarray_sum", "Best Contiguous Sum", "def best_subarray_sum(nums: list[int]) -> int:",
    """
    Given a non-empty list of integers `nums`, return the maximum sum of a non-empty contiguous
    subarray of `nums`.

    Constraints: `nums` has between 1 and 10^5 elements, each between -10^4 and 10^4.
    """,
    """
    def best_subarray_sum(nums: list[int]) -> int:
        best = cur = nums[0]
        for x in nums[1:]:
            cur = max(x, cur + x)
            best = max(best, cur)
        return best
    """,
    lambda r: [ints(r, -9, 9, 1, 10)],
    visible=[[[-2, 1, -3, 4, -1, 2, 1, -5, 4]], [[-3, -1, -2]]],
    edge=[[[7]], [[-7]], [[0, 0, 0]], [[5, -9, 5]]],
    flip=flipped("maximum", "minimum", """
    def best_subarray_sum(nums: list[int]) -> int:
        best = cur = nums[0]
        for x in nums[1:]:
            cur = min(x, cur + x)
            best = min(best, cur)
        return best
    """),
)

problem(
    "kth_largest", "K-th Largest Value", "def kth_largest(nums: list[int], k: int) -> int:",
    """
    Given a non-empty list of integers `nums` and an integer `k`, return the `k`-th largest value of
    `nums`, where equal values are counted separately (in the list [5, 5, 3], the 2nd largest value is 5).

    Constraints: `k` is between 1 and the number of elements of `nums`, which is at most 10^5; values
    are between -10^4 and 10^4.
    """,
    """
    import heapq


    def kth_largest(nums: list[int], k: int) -> int:
        return heapq.nlargest(k, nums)[-1]
    """,
    lambda r: (lambda xs: [xs, r.randint(1, len(xs))])(ints(r, -20, 20, 1, 10)),
    visible=[[[3, 2, 1, 5, 6, 4], 2], [[7, 7, 7], 3]],
    edge=[[[1], 1], [[2, 1], 1], [[4, 4, 1], 2], [[-1, -5, 3], 3]],
    flip=flipped("largest", "smallest", """
    import heapq


    def kth_largest(nums: list[int], k: int) -> int:
        return heapq.nsmallest(k, nums)[-1]
    """, occurrences=2),
)

problem(
    "next_greater", "Next Greater to the Right", "def next_greater(nums: list[int]) -> list[int]:",
    """
    Given a list of integers `nums`, build a list of the same length whose entry at position `i` is the
    value of the nearest element to the right of position `i` that is strictly greater than `nums[i]`,
    or -1 if there is no such element. Return that list.

    Constraints: `nums` has between 0 and 10^5 elements, each between -10^9 and 10^9.
    """,
    """
    def next_greater(nums: list[int]) -> list[int]:
        out = [-1] * len(nums)
        stack = []  # positions still waiting for a greater element
        for i, x in enumerate(nums):
            while stack and nums[stack[-1]] < x:
                out[stack.pop()] = x
            stack.append(i)
        return out
    """,
    lambda r: [ints(r, 0, 9, 1, 10)],
    visible=[[[2, 1, 3, 2]], [[5, 4, 3]]],
    edge=[[[]], [[1]], [[2, 2, 2]], [[1, 2, 3, 4]]],
    flip=flipped("greater", "smaller", """
    def next_greater(nums: list[int]) -> list[int]:
        out = [-1] * len(nums)
        stack = []
        for i, x in enumerate(nums):
            while stack and nums[stack[-1]] > x:
                out[stack.pop()] = x
            stack.append(i)
        return out
    """),
)

problem(
    "window_max", "Sliding Window Extremes", "def window_max(nums: list[int], k: int) -> list[int]:",
    """
    Given a list of integers `nums` and a window width `k`, slide a window of `k` consecutive elements
    over `nums` from left to right, one position at a time. For every window position, record the
    maximum of the elements inside the window, and return the recorded values as a list.

    Constraints: `k` is between 1 and the number of elements of `nums`, which is at most 10^5.
    """,
    """
    from collections import deque


    def window_max(nums: list[int], k: int) -> list[int]:
        out, dq = [], deque()  # dq holds positions with decreasing values
        for i, x in enumerate(nums):
            while dq and nums[dq[-1]] <= x:
                dq.pop()
            dq.append(i)
            if dq[0] <= i - k:
                dq.popleft()
            if i >= k - 1:
                out.append(nums[dq[0]])
        return out
    """,
    lambda r: (lambda xs: [xs, r.randint(1, len(xs))])(ints(r, -9, 9, 1, 10)),
    visible=[[[1, 3, -1, -3, 5, 3, 6, 7], 3], [[4, 2], 1]],
    edge=[[[5], 1], [[1, 2, 3], 3], [[3, 3, 3], 2], [[2, 1, 2, 1], 2]],
    flip=flipped("maximum", "minimum", """
    from collections import deque


    def window_max(nums: list[int], k: int) -> list[int]:
        out, dq = [], deque()
        for i, x in enumerate(nums):
            while dq and nums[dq[-1]] >= x:
                dq.pop()
            dq.append(i)
            if dq[0] <= i - k:
                dq.popleft()
            if i >= k - 1:
                out.append(nums[dq[0]])
        return out
    """),
)

problem(
    "max_profit", "One Trade", "def max_profit(prices: list[int]) -> int:",
    """
    `prices[i]` is the price of a stock on day `i`. You buy once on some day and sell once on a strictly
    later day; the result of this trade is the selling price minus the buying price, which may be
    negative. Return the largest result any such trade can have. If there are fewer than two days,
    return 0.

    Constraints: `prices` has between 0 and 10^5 entries, each between 0 and 10^4.
    """,
    """
    def max_profit(prices: list[int]) -> int:
        if len(prices) < 2:
            return 0
        best, low = prices[1] - prices[0], prices[0]
        for p in prices[1:]:
            best = max(best, p - low)
            low = min(low, p)
        return best
    """,
    lambda r: [ints(r, 0, 30, 2, 9)],
    visible=[[[7, 1, 5, 3, 6, 4]], [[9, 7, 4]]],
    edge=[[[]], [[5]], [[3, 3]], [[1, 2]]],
    flip=flipped("largest", "smallest", """
    def max_profit(prices: list[int]) -> int:
        if len(prices) < 2:
            return 0
        worst, high = prices[1] - prices[0], prices[0]
        for p in prices[1:]:
            worst = min(worst, p - high)
            high = max(high, p)
        return worst
    """),
)

problem(
    "product_of_three", "Three-Factor Product", "def product_of_three(nums: list[int]) -> int:",
    """
    Return the largest product that can be obtained by multiplying three elements of the list of
    integers `nums` taken from three different positions.

    Constraints: `nums` has between 3 and 10^4 elements, each between -1000 and 1000.
    """,
    """
    from itertools import combinations


    def product_of_three(nums: list[int]) -> int:
        s = sorted(nums)
        # an extreme product only uses the three smallest and the three largest values
        ends = s[:3] + s[3:][-3:]
        return max(a * b * c for a, b, c in combinations(ends, 3))
    """,
    lambda r: [ints(r, -10, 10, 3, 8)],
    visible=[[[1, 2, 3, 4]], [[-10, -10, 5, 2]]],
    edge=[[[1, 2, 3]], [[-1, -2, -3]], [[0, 0, 0, 0]], [[-5, 1, 2, 3]]],
    flip=flipped("largest", "smallest", """
    from itertools import combinations


    def product_of_three(nums: list[int]) -> int:
        s = sorted(nums)
        ends = s[:3] + s[3:][-3:]
        return min(a * b * c for a, b, c in combinations(ends, 3))
    """),
)

problem(
    "count_inversions", "Out-of-Order Pairs", "def count_inversions(nums: list[int]) -> int:",
    """
    Given a list of integers `nums`, count the pairs of positions `i` < `j` for which `nums[i]` is
    strictly greater than `nums[j]`, and return that count.

    Constraints: `nums` has between 0 and 10^5 elements, each between -10^9 and 10^9.
    """,
    """
    def count_inversions(nums: list[int]) -> int:
        def sort(xs):
            if len(xs) <= 1:
                return xs, 0
            mid = len(xs) // 2
            left, a = sort(xs[:mid])
            right, b = sort(xs[mid:])
            merged, count, i, j = [], a + b, 0, 0
            while i < len(left) and j < len(right):
                if right[j] < left[i]:
                    count += len(left) - i
                    merged.append(right[j])
                    j += 1
                else:
                    merged.append(left[i])
                    i += 1
            return merged + left[i:] + right[j:], count

        return sort(list(nums))[1]
    """,
    lambda r: [ints(r, 0, 9, 0, 10)],
    visible=[[[2, 4, 1, 3, 5]], [[1, 1, 1]]],
    edge=[[[]], [[1]], [[3, 2, 1]], [[1, 2, 3]]],
    flip=flipped("greater", "smaller", """
    def count_inversions(nums: list[int]) -> int:
        return sum(1 for i in range(len(nums)) for j in range(i + 1, len(nums)) if nums[i] < nums[j])
    """),
)

problem(
    "smallest_missing", "Missing From the Range", "def smallest_missing(nums: list[int], n: int) -> int:",
    """
    Given a list of integers `nums` and a positive integer `n`, return the smallest integer from 1 to
    `n` (inclusive) that does not occur in `nums`. Return -1 if all of them occur.

    Constraints: `n` is between 1 and 10^5; `nums` has between 0 and 10^5 elements, each between -10^9
    and 10^9.
    """,
    """
    def smallest_missing(nums: list[int], n: int) -> int:
        present = set(nums)
        for v in range(1, n + 1):
            if v not in present:
                return v
        return -1
    """,
    lambda r: [ints(r, -2, 10, 0, 9), r.randint(1, 10)],
    visible=[[[3, 1, 5], 5], [[1, 2, 3], 3]],
    edge=[[[], 1], [[1], 1], [[2], 2], [[-1, 0, 7], 3]],
    flip=flipped("smallest", "largest", """
    def smallest_missing(nums: list[int], n: int) -> int:
        present = set(nums)
        for v in range(n, 0, -1):
            if v not in present:
                return v
        return -1
    """),
)

problem(
    "parity_partition", "Parity Partition", "def parity_partition(nums: list[int]) -> list[int]:",
    """
    Given a list of integers `nums`, return a new list with the same elements, rearranged so that every
    even element comes before all remaining elements. Within each of the two groups, keep the original
    relative order.

    Constraints: `nums` has between 0 and 10^5 elements, each between -10^9 and 10^9.
    """,
    """
    def parity_partition(nums: list[int]) -> list[int]:
        return [x for x in nums if x % 2 == 0] + [x for x in nums if x % 2 != 0]
    """,
    lambda r: [ints(r, -9, 20, 1, 9)],
    visible=[[[3, 1, 2, 4]], [[0, 7, -2, 5]]],
    edge=[[[]], [[2]], [[1]], [[1, 2]]],
    flip=flipped("even", "odd", """
    def parity_partition(nums: list[int]) -> list[int]:
        return [x for x in nums if x % 2 != 0] + [x for x in nums if x % 2 == 0]
    """),
)

problem(
    "min_jumps", "Forward Jumps", "def min_jumps(nums: list[int]) -> int:",
    """
    You stand at position 0 of the list of non-negative integers `nums`. From position `i`, one jump
    takes you to any position from `i` + 1 to `i` + `nums[i]` (inclusive) that lies inside the list.
    Return the minimum number of jumps with which you can reach the last position. The last position
    is guaranteed to be reachable; if the list has one element, the answer is 0.

    Constraints: `nums` has between 1 and 10^4 elements, each between 0 and 1000.
    """,
    """
    def min_jumps(nums: list[int]) -> int:
        jumps, reach, frontier = 0, 0, 0
        for i in range(len(nums) - 1):
            reach = max(reach, i + nums[i])
            if i == frontier:  # every position up to frontier is reachable with `jumps` jumps
                jumps += 1
                frontier = reach
        return jumps
    """,
    lambda r: [_reachable_jumps(r)],
    visible=[[[2, 3, 1, 1, 4]], [[1, 1, 1]]],
    edge=[[[0]], [[1, 0]], [[3, 0, 0, 0]], [[2, 0, 1]]],
    flip=flipped("minimum", "maximum", """
    def min_jumps(nums: list[int]) -> int:
        n = len(nums)
        most = [None] * n  # most jumps from position i to the end; None: the end is unreachable
        most[n - 1] = 0
        for i in range(n - 2, -1, -1):
            options = [most[j] for j in range(i + 1, min(n, i + nums[i] + 1)) if most[j] is not None]
            most[i] = 1 + max(options) if options else None
        return most[0]
    """),
)


def _reachable_jumps(r):
    while True:
        xs = ints(r, 0, 3, 1, 9)
        reach = 0
        for i, x in enumerate(xs):
            if i > reach:
                break
            reach = max(reach, i + x)
        if reach >= len(xs) - 1:
            return xs


# ------------------------------------------------------------------------------------- two pointers

problem(
    "pair_with_sum", "Pair With Target Sum", "def pair_with_sum(nums: list[int], target: int) -> list[int]:",
    """
    Given a list of integers `nums` and an integer `target`, consider every pair of positions `i` < `j`
    with `nums[i]` + `nums[j]` equal to `target`. Order these pairs by `i`, and pairs with the same `i`
    by `j`. Return the first pair in this order as the two-element list [`i`, `j`], or an empty list if
    there is no such pair.

    Constraints: `nums` has between 0 and 10^4 elements; its values and `target` are between -10^9 and
    10^9.
    """,
    """
    from bisect import bisect_right


    def pair_with_sum(nums: list[int], target: int) -> list[int]:
        where = {}
        for i, x in enumerate(nums):
            where.setdefault(x, []).append(i)
        for i, x in enumerate(nums):
            js = where.get(target - x, [])
            k = bisect_right(js, i)
            if k < len(js):
                return [i, js[k]]
        return []
    """,
    lambda r: [ints(r, -3, 8, 2, 9), r.randint(0, 10)],
    visible=[[[2, 7, 11, 15], 9], [[3, 3, 3], 6], [[1, 2], 7]],
    edge=[[[], 0], [[5], 10], [[0, 0], 0], [[1, 4, 2, 3], 5]],
    flip=flipped("first", "last", """
    def pair_with_sum(nums: list[int], target: int) -> list[int]:
        last = {}
        for j, x in enumerate(nums):
            last[x] = j
        for i in range(len(nums) - 1, -1, -1):
            j = last.get(target - nums[i], -1)
            if j > i:
                return [i, j]
        return []
    """),
)

problem(
    "count_pairs", "Pairs Reaching a Target", "def count_pairs(nums: list[int], target: int) -> int:",
    """
    Given a list of integers `nums` and an integer `target`, return the number of pairs of positions
    `i` < `j` such that `nums[i]` + `nums[j]` is at least `target`.

    Constraints: `nums` has between 0 and 10^5 elements; its values and `target` are between -10^9 and
    10^9.
    """,
    """
    def count_pairs(nums: list[int], target: int) -> int:
        s = sorted(nums)
        lo, hi, count = 0, len(s) - 1, 0
        while lo < hi:
            if s[lo] + s[hi] >= target:
                count += hi - lo  # s[hi] pairs with every element from lo to hi - 1
                hi -= 1
            else:
                lo += 1
        return count
    """,
    lambda r: [ints(r, -5, 10, 2, 9), r.randint(-3, 15)],
    visible=[[[1, 5, 3, 2], 6], [[4, 4, 4], 8]],
    edge=[[[], 0], [[3], 1], [[1, 1], 2], [[-2, 0, 2], 0]],
    flip=flipped("at least", "at most", """
    def count_pairs(nums: list[int], target: int) -> int:
        s = sorted(nums)
        lo, hi, count = 0, len(s) - 1, 0
        while lo < hi:
            if s[lo] + s[hi] <= target:
                count += hi - lo
                lo += 1
            else:
                hi -= 1
        return count
    """),
)

problem(
    "most_water", "Widest Container", "def most_water(heights: list[int]) -> int:",
    """
    `heights[i]` is the height of a vertical line standing at x = `i`. Two different lines at `i` < `j`
    form a container whose capacity is (`j` - `i`) multiplied by the height of the shorter of the two
    lines. Return the largest capacity that a container formed by two of the lines can have.

    Constraints: `heights` has between 2 and 10^5 entries, each between 0 and 10^4.
    """,
    """
    def most_water(heights: list[int]) -> int:
        lo, hi, best = 0, len(heights) - 1, 0
        while lo < hi:
            best = max(best, (hi - lo) * min(heights[lo], heights[hi]))
            if heights[lo] < heights[hi]:
                lo += 1
            else:
                hi -= 1
        return best
    """,
    lambda r: [ints(r, 1, 12, 2, 9)],
    visible=[[[1, 8, 6, 2, 5, 4, 8, 3, 7]], [[1, 1]]],
    edge=[[[0, 0]], [[3, 4]], [[2, 2, 2]], [[5, 1, 5]]],
    flip=flipped("largest", "smallest", """
    def most_water(heights: list[int]) -> int:
        n = len(heights)
        return min((j - i) * min(heights[i], heights[j]) for i in range(n) for j in range(i + 1, n))
    """),
)

problem(
    "pair_sum_below", "Pair Sum Below a Cap", "def pair_sum_below(nums: list[int], target: int) -> int:",
    """
    Given a list of positive integers `nums` and an integer `target`, look at the sums `nums[i]` +
    `nums[j]` over all pairs of positions `i` < `j`. Return the largest of these sums that is strictly
    less than `target`, or -1 if no sum is below `target`.

    Constraints: `nums` has between 0 and 10^5 elements, each between 1 and 1000; `target` is between 1
    and 2000.
    """,
    """
    def pair_sum_below(nums: list[int], target: int) -> int:
        s = sorted(nums)
        lo, hi, best = 0, len(s) - 1, -1
        while lo < hi:
            total = s[lo] + s[hi]
            if total < target:
                best = max(best, total)
                lo += 1
            else:
                hi -= 1
        return best
    """,
    lambda r: [ints(r, 1, 15, 2, 8), r.randint(2, 30)],
    visible=[[[34, 23, 1, 24, 75, 33, 54, 8], 60], [[10, 20, 30], 15]],
    edge=[[[], 5], [[1], 5], [[1, 1], 3], [[2, 3, 4], 8]],
    flip=flipped("largest", "smallest", """
    def pair_sum_below(nums: list[int], target: int) -> int:
        if len(nums) < 2:
            return -1
        a, b = sorted(nums)[:2]
        return a + b if a + b < target else -1
    """),
)

problem(
    "find_position", "Position in a Sorted List", "def find_position(nums: list[int], target: int) -> int:",
    """
    The list of integers `nums` is sorted in non-decreasing order. Return the first index at which
    `target` occurs in `nums`, or -1 if `target` does not occur. Aim for logarithmic time.

    Constraints: `nums` has between 0 and 10^5 elements; its values and `target` are between -10^9 and
    10^9.
    """,
    """
    from bisect import bisect_left


    def find_position(nums: list[int], target: int) -> int:
        i = bisect_left(nums, target)
        return i if i < len(nums) and nums[i] == target else -1
    """,
    lambda r: [sorted(ints(r, 0, 6, 1, 10)), r.randint(0, 6)],
    visible=[[[1, 2, 2, 2, 5], 2], [[1, 3, 5], 4]],
    edge=[[[], 1], [[4], 4], [[4, 4], 4], [[1, 2, 3], 3]],
    flip=flipped("first", "last", """
    from bisect import bisect_right


    def find_position(nums: list[int], target: int) -> int:
        i = bisect_right(nums, target) - 1
        return i if i >= 0 and nums[i] == target else -1
    """),
)

# ------------------------------------------------------------------------------------------ hashing

problem(
    "first_unique_index", "Lone Character", "def first_unique_index(s: str) -> int:",
    """
    Given a string `s`, find the first character of `s` that occurs exactly once in the whole string and
    return its index (counting from 0). If every character occurs more than once, return -1.

    Constraints: `s` has between 0 and 10^5 characters, all lowercase English letters.
    """,
    """
    from collections import Counter


    def first_unique_index(s: str) -> int:
        counts = Counter(s)
        for i, c in enumerate(s):
            if counts[c] == 1:
                return i
        return -1
    """,
    lambda r: [word(r, "abcde", 1, 10)],
    visible=[["leetcode"], ["aabb"], ["loveleetcode"]],
    edge=[[""], ["z"], ["zz"], ["abc"]],
    flip=flipped("first", "last", """
    from collections import Counter


    def first_unique_index(s: str) -> int:
        counts = Counter(s)
        for i in range(len(s) - 1, -1, -1):
            if counts[s[i]] == 1:
                return i
        return -1
    """),
)

problem(
    "most_common", "Most Common Value", "def most_common(nums: list[int]) -> int:",
    """
    Return the value that occurs most often in the non-empty list of integers `nums`. If several values
    share that number of occurrences, return the smallest of them.

    Constraints: `nums` has between 1 and 10^5 elements, each between -10^9 and 10^9.
    """,
    """
    from collections import Counter


    def most_common(nums: list[int]) -> int:
        counts = Counter(nums)
        return min(counts, key=lambda v: (-counts[v], v))
    """,
    lambda r: [ints(r, 0, 6, 1, 10)],
    visible=[[[3, 1, 3, 2, 1, 3]], [[4, 4, 2, 2]]],
    edge=[[[7]], [[1, 2]], [[5, 5, 5]], [[-1, -1, 2]]],
    flip=flipped("most", "least", """
    from collections import Counter


    def most_common(nums: list[int]) -> int:
        counts = Counter(nums)
        return min(counts, key=lambda v: (counts[v], v))
    """),
)

problem(
    "top_k_frequent", "Top K Frequent Values", "def top_k_frequent(nums: list[int], k: int) -> list[int]:",
    """
    Return the `k` distinct values of the list of integers `nums` that occur most often. When several
    values occur equally often and only some of them can be chosen, choose the smaller values. Return
    the chosen values sorted in ascending numeric order.

    Constraints: `k` is between 1 and the number of distinct values in `nums`; `nums` has between 1 and
    10^5 elements.
    """,
    """
    from collections import Counter


    def top_k_frequent(nums: list[int], k: int) -> list[int]:
        counts = Counter(nums)
        return sorted(sorted(counts, key=lambda v: (-counts[v], v))[:k])
    """,
    lambda r: (lambda xs: [xs, r.randint(1, len(set(xs)))])(ints(r, 0, 6, 1, 12)),
    visible=[[[1, 1, 1, 2, 2, 3], 2], [[4, 5, 6, 4], 1]],
    edge=[[[9], 1], [[1, 2], 1], [[2, 2, 1], 2], [[3, 1, 3, 1, 2], 2]],
    flip=flipped("most", "least", """
    from collections import Counter


    def top_k_frequent(nums: list[int], k: int) -> list[int]:
        counts = Counter(nums)
        return sorted(sorted(counts, key=lambda v: (counts[v], v))[:k])
    """),
)

problem(
    "largest_anagram_group", "Anagram Families", "def largest_anagram_group(entries: list[str]) -> int:",
    """
    Given a list `entries` of lowercase words, put two words in the same group when one is a
    rearrangement of the letters of the other (equal words also share a group). Return the number of
    words in the largest group, or 0 if `entries` is empty.

    Constraints: `entries` has between 0 and 10^4 words, each with 1 to 100 letters.
    """,
    """
    from collections import Counter


    def largest_anagram_group(entries: list[str]) -> int:
        groups = Counter("".join(sorted(w)) for w in entries)
        return max(groups.values(), default=0)
    """,
    lambda r: [[word(r, "abc", 1, 3) for _ in range(r.randint(1, 7))]],
    visible=[[["eat", "tea", "tan", "ate", "nat", "bat"]], [["x"]]],
    edge=[[[]], [["ab", "ba"]], [["ab", "cd"]], [["a", "a", "b"]]],
    flip=flipped("largest", "smallest", """
    from collections import Counter


    def largest_anagram_group(entries: list[str]) -> int:
        groups = Counter("".join(sorted(w)) for w in entries)
        return min(groups.values(), default=0)
    """),
)

problem(
    "earliest_duplicate", "Repeat Sighting", "def earliest_duplicate(nums: list[int]) -> int:",
    """
    Given a list of integers `nums`, return the earliest index `i` such that the value `nums[i]` also
    occurs at some index smaller than `i`. Return -1 if there is no such index.

    Constraints: `nums` has between 0 and 10^5 elements, each between -10^9 and 10^9.
    """,
    """
    def earliest_duplicate(nums: list[int]) -> int:
        seen = set()
        for i, x in enumerate(nums):
            if x in seen:
                return i
            seen.add(x)
        return -1
    """,
    lambda r: [ints(r, 0, 6, 1, 9)],
    visible=[[[2, 5, 1, 2, 5]], [[1, 2, 3]]],
    edge=[[[]], [[4]], [[4, 4]], [[1, 2, 1, 2]]],
    flip=flipped("earliest", "latest", """
    def earliest_duplicate(nums: list[int]) -> int:
        for i in range(len(nums) - 1, -1, -1):
            if nums[i] in nums[:i]:
                return i
        return -1
    """),
)

problem(
    "longest_streak", "Consecutive Value Streaks", "def longest_streak(nums: list[int]) -> int:",
    """
    Consider the distinct values of the list of integers `nums`. A streak is a set of these values that
    forms a run of consecutive integers x, x + 1, ..., x + m and cannot be extended, because neither
    x - 1 nor x + m + 1 is among the values. Every distinct value belongs to exactly one streak. Return
    the size of the longest streak, or 0 if `nums` is empty.

    Constraints: `nums` has between 0 and 10^5 elements, each between -10^9 and 10^9.
    """,
    """
    def longest_streak(nums: list[int]) -> int:
        values, best = set(nums), 0
        for v in values:
            if v - 1 not in values:  # v starts a streak
                end = v
                while end + 1 in values:
                    end += 1
                best = max(best, end - v + 1)
        return best
    """,
    lambda r: [ints(r, 0, 15, 1, 10)],
    visible=[[[100, 4, 200, 1, 3, 2]], [[5, 5, 6]]],
    edge=[[[]], [[0]], [[1, 3]], [[2, 1, 3, 10]]],
    flip=flipped("longest", "shortest", """
    def longest_streak(nums: list[int]) -> int:
        values, best = set(nums), None
        for v in values:
            if v - 1 not in values:
                end = v
                while end + 1 in values:
                    end += 1
                best = end - v + 1 if best is None else min(best, end - v + 1)
        return best or 0
    """),
)

problem(
    "frequent_values", "Values Seen Often", "def frequent_values(nums: list[int], k: int) -> list[int]:",
    """
    Given a list of integers `nums` and a positive integer `k`, return, sorted in ascending order, every
    distinct value of `nums` that occurs at least `k` times in `nums`.

    Constraints: `nums` has between 0 and 10^5 elements; `k` is between 1 and 10^5.
    """,
    """
    from collections import Counter


    def frequent_values(nums: list[int], k: int) -> list[int]:
        return sorted(v for v, c in Counter(nums).items() if c >= k)
    """,
    lambda r: [ints(r, 0, 5, 1, 10), r.randint(1, 3)],
    visible=[[[1, 2, 2, 3, 3, 3], 2], [[4, 4], 3]],
    edge=[[[], 1], [[7], 1], [[1, 1, 2], 2], [[5, 6], 1]],
    flip=flipped("at least", "at most", """
    from collections import Counter


    def frequent_values(nums: list[int], k: int) -> list[int]:
        return sorted(v for v, c in Counter(nums).items() if c <= k)
    """),
)

# ------------------------------------------------------------------------------------------ strings

problem(
    "longest_run", "Longest Block of Repeats", "def longest_run(s: str) -> int:",
    """
    Split the string `s` into blocks, where a block is a maximal stretch of consecutive equal characters
    (for example "aaabcc" has the blocks "aaa", "b" and "cc"). Return the length of the longest block,
    or 0 if `s` is empty.

    Constraints: `s` has between 0 and 10^5 characters, all lowercase English letters.
    """,
    """
    from itertools import groupby


    def longest_run(s: str) -> int:
        return max((len(list(g)) for _, g in groupby(s)), default=0)
    """,
    lambda r: ["".join(r.choice("abc") * r.randint(1, 4) for _ in range(r.randint(1, 5)))],
    visible=[["aaabcc"], ["abc"]],
    edge=[[""], ["a"], ["zzzz"], ["aab"]],
    flip=flipped("longest", "shortest", """
    from itertools import groupby


    def longest_run(s: str) -> int:
        return min((len(list(g)) for _, g in groupby(s)), default=0)
    """),
)

problem(
    "frequency_sort", "Characters by Frequency", "def frequency_sort(s: str) -> str:",
    """
    Rearrange the characters of the string `s` so that equal characters stand next to each other and the
    groups of equal characters appear in descending order of group size. When two groups have the same
    size, the group of the character with the smaller code point comes first. Return the rearranged
    string.

    Constraints: `s` has between 0 and 10^5 characters, all lowercase English letters or digits.
    """,
    """
    from collections import Counter


    def frequency_sort(s: str) -> str:
        counts = Counter(s)
        return "".join(c * counts[c] for c in sorted(counts, key=lambda c: (-counts[c], c)))
    """,
    lambda r: [word(r, "abcd", 1, 10)],
    visible=[["tree"], ["cccaaa"], ["2a554"]],
    edge=[[""], ["x"], ["ab"], ["abb"]],
    flip=flipped("descending", "ascending", """
    from collections import Counter


    def frequency_sort(s: str) -> str:
        counts = Counter(s)
        return "".join(c * counts[c] for c in sorted(counts, key=lambda c: (counts[c], c)))
    """),
)

problem(
    "longest_word", "Longest Word of a Sentence", "def longest_word(sentence: str) -> str:",
    """
    The string `sentence` consists of one or more words made of English letters, separated by single
    spaces. Return the longest word. If several words share that length, return the one that appears
    first.

    Constraints: `sentence` has between 1 and 10^4 characters.
    """,
    """
    def longest_word(sentence: str) -> str:
        best = ""
        for w in sentence.split(" "):
            if len(w) > len(best):
                best = w
        return best
    """,
    lambda r: [" ".join(word(r, "abcdefg", 1, 6) for _ in range(r.randint(1, 6)))],
    visible=[["the quick brown fox"], ["I am here"]],
    edge=[["a"], ["ab cd"], ["hello"], ["x yz"]],
    flip=flipped("longest", "shortest", """
    def longest_word(sentence: str) -> str:
        parts = sentence.split(" ")
        best = parts[0]
        for w in parts[1:]:
            if len(w) < len(best):
                best = w
        return best
    """),
)

problem(
    "longest_palindrome", "Longest Mirror Substring", "def longest_palindrome(s: str) -> str:",
    """
    Return the longest substring of the string `s` that is a palindrome, that is, reads the same from
    left to right and from right to left. If several palindromic substrings have that maximal length,
    return the leftmost one. For an empty `s`, return the empty string.

    Constraints: `s` has between 0 and 1000 characters, all lowercase English letters.
    """,
    """
    def longest_palindrome(s: str) -> str:
        best = s[:0]
        for center in range(2 * len(s) - 1):
            lo, hi = center // 2, (center + 1) // 2
            while lo >= 0 and hi < len(s) and s[lo] == s[hi]:
                lo -= 1
                hi += 1
            # equal lengths never mix parities and their starts grow with the center: strict > keeps the leftmost
            if hi - lo - 1 > len(best):
                best = s[lo + 1 : hi]
        return best
    """,
    lambda r: [word(r, "abc", 1, 9)],
    visible=[["babad"], ["cbbd"]],
    edge=[[""], ["a"], ["ab"], ["aa"]],
    flip=flipped("leftmost", "rightmost", """
    def longest_palindrome(s: str) -> str:
        best, best_start = s[:0], -1
        for center in range(2 * len(s) - 1):
            lo, hi = center // 2, (center + 1) // 2
            while lo >= 0 and hi < len(s) and s[lo] == s[hi]:
                lo -= 1
                hi += 1
            if hi - lo - 1 > len(best) or (hi - lo - 1 == len(best) and lo + 1 > best_start):
                best, best_start = s[lo + 1 : hi], lo + 1
        return best
    """),
)

problem(
    "vowel_window", "Vowels in a Window", "def vowel_window(s: str, k: int) -> int:",
    """
    Given a string `s` of lowercase English letters and an integer `k`, look at every substring of `s`
    of length exactly `k`. Return the maximum number of vowels (the letters a, e, i, o and u) that such
    a substring contains.

    Constraints: `k` is between 1 and the length of `s`, which is at most 10^5.
    """,
    """
    def vowel_window(s: str, k: int) -> int:
        inside = sum(c in "aeiou" for c in s[:k])
        best = inside
        for i in range(k, len(s)):
            inside += (s[i] in "aeiou") - (s[i - k] in "aeiou")
            best = max(best, inside)
        return best
    """,
    lambda r: (lambda w: [w, r.randint(1, len(w))])(word(r, "abeio", 1, 10)),
    visible=[["abciiidef", 3], ["leetcode", 3]],
    edge=[["a", 1], ["b", 1], ["ab", 1], ["aeb", 2]],
    flip=flipped("maximum", "minimum", """
    def vowel_window(s: str, k: int) -> int:
        inside = sum(c in "aeiou" for c in s[:k])
        best = inside
        for i in range(k, len(s)):
            inside += (s[i] in "aeiou") - (s[i - k] in "aeiou")
            best = min(best, inside)
        return best
    """),
)

problem(
    "count_k_distinct", "Substrings With Few Letters", "def count_k_distinct(s: str, k: int) -> int:",
    """
    Given a string `s` and a positive integer `k`, count the non-empty substrings of `s` that contain at
    most `k` distinct characters. Substrings at different positions count separately even when they are
    equal. Return the count.

    Constraints: `s` has between 0 and 10^4 characters, all lowercase English letters; `k` is between 1
    and 26.
    """,
    """
    from collections import Counter


    def count_k_distinct(s: str, k: int) -> int:
        counts, lo, total = Counter(), 0, 0
        for hi, c in enumerate(s):
            counts[c] += 1
            while len(counts) > k:
                counts[s[lo]] -= 1
                if counts[s[lo]] == 0:
                    del counts[s[lo]]
                lo += 1
            total += hi - lo + 1  # substrings ending at hi that start at lo..hi
        return total
    """,
    lambda r: [word(r, "abc", 1, 8), r.randint(1, 3)],
    visible=[["abc", 2], ["aab", 1]],
    edge=[["", 1], ["a", 1], ["ab", 1], ["ab", 2]],
    flip=flipped("at most", "at least", """
    def count_k_distinct(s: str, k: int) -> int:
        return sum(1 for i in range(len(s)) for j in range(i + 1, len(s) + 1) if len(set(s[i:j])) >= k)
    """),
)

problem(
    "remove_digits", "Remove K Digits", "def remove_digits(num: str, k: int) -> str:",
    """
    The string `num` holds the decimal digits of a non-negative integer. Remove exactly `k` of its digits,
    keeping the order of the others, so that the remaining digits form the smallest possible number.
    Return that number as a string without leading zeros, or "0" if no digits remain or all remaining
    digits are zeros.

    Constraints: `num` has between 1 and 10^5 digits; `k` is between 0 and the number of digits.
    """,
    """
    def remove_digits(num: str, k: int) -> str:
        stack = []
        for d in num:
            while k and stack and stack[-1] > d:
                stack.pop()
                k -= 1
            stack.append(d)
        if k:
            stack = stack[:-k]
        return "".join(stack).lstrip("0") or "0"
    """,
    lambda r: (lambda d: [d, r.randint(0, len(d))])(word(r, "0123456789", 1, 8)),
    visible=[["1432219", 3], ["10200", 1]],
    edge=[["9", 1], ["10", 2], ["12", 0], ["21", 1]],
    flip=flipped("smallest", "largest", """
    def remove_digits(num: str, k: int) -> str:
        stack = []
        for d in num:
            while k and stack and stack[-1] < d:
                stack.pop()
                k -= 1
            stack.append(d)
        if k:
            stack = stack[:-k]
        return "".join(stack).lstrip("0") or "0"
    """),
)

problem(
    "sort_by_length", "Order by Length", "def sort_by_length(words: list[str]) -> list[str]:",
    """
    Return the strings of the list `words` sorted by length in ascending order; strings of the same
    length are arranged alphabetically. Duplicates are kept.

    Constraints: `words` has between 0 and 10^4 entries, each a lowercase string of 1 to 50 letters.
    """,
    """
    def sort_by_length(words: list[str]) -> list[str]:
        return sorted(words, key=lambda w: (len(w), w))
    """,
    lambda r: [[word(r, "abc", 1, 4) for _ in range(r.randint(1, 6))]],
    visible=[[["pear", "fig", "banana", "kiwi"]], [["b", "a"]]],
    edge=[[[]], [["x"]], [["ab", "c"]], [["aa", "bb"]]],
    flip=flipped("ascending", "descending", """
    def sort_by_length(words: list[str]) -> list[str]:
        return sorted(words, key=lambda w: (-len(w), w))
    """),
)

problem(
    "largest_concatenation", "Biggest Concatenation", "def largest_concatenation(nums: list[int]) -> str:",
    """
    Given a list of non-negative integers `nums`, arrange all of them in some order and write their
    decimal representations one after another. Every arrangement gives the same number of digits; return
    the largest result obtainable this way, compared as a decimal number. Return the string exactly as
    written, so it may start with 0; an empty list gives the empty string.

    Constraints: `nums` has between 0 and 100 elements, each between 0 and 10^9.
    """,
    """
    from functools import cmp_to_key


    def largest_concatenation(nums: list[int]) -> str:
        parts = [str(x) for x in nums]
        parts.sort(key=cmp_to_key(lambda a, b: (a + b < b + a) - (a + b > b + a)))
        return "".join(parts)
    """,
    lambda r: [ints(r, 0, 60, 1, 5)],
    visible=[[[3, 30, 34, 5, 9]], [[10, 2]]],
    edge=[[[]], [[0]], [[0, 0]], [[12, 121]]],
    flip=flipped("largest", "smallest", """
    from functools import cmp_to_key


    def largest_concatenation(nums: list[int]) -> str:
        parts = [str(x) for x in nums]
        parts.sort(key=cmp_to_key(lambda a, b: (a + b > b + a) - (a + b < b + a)))
        return "".join(parts)
    """),
)

problem(
    "reverse_words", "Reverse the Words", "def reverse_words(sentence: str) -> str:",
    """
    The string `sentence` contains words separated by one or more spaces, possibly with spaces at both
    ends. Return the words in reverse order, joined by single spaces, with no spaces at either end.

    Constraints: `sentence` has between 0 and 10^4 characters: English letters, digits and spaces.
    """,
    """
    def reverse_words(sentence: str) -> str:
        return " ".join(reversed(sentence.split()))
    """,
    lambda r: ["  ".join(word(r, "ab", 1, 3) for _ in range(r.randint(1, 4))) + " " * r.randint(0, 2)],
    visible=[["the sky is blue"], ["  hello world  "]],
    edge=[[""], ["   "], ["one"], ["a  b"]],
)

problem(
    "is_clean_palindrome", "Palindrome After Cleaning", "def is_clean_palindrome(s: str) -> bool:",
    """
    Remove from the string `s` every character that is not an ASCII letter or digit and ignore the case
    of letters. Return True if what remains reads the same forwards and backwards, and False otherwise.
    An empty remainder is considered a palindrome.

    Constraints: `s` has between 0 and 2 * 10^5 printable ASCII characters.
    """,
    """
    def is_clean_palindrome(s: str) -> bool:
        kept = [c.lower() for c in s if c.isascii() and c.isalnum()]
        return kept == kept[::-1]
    """,
    lambda r: [word(r, "aAb ,.1", 0, 9)],
    visible=[["A man, a plan, a canal: Panama"], ["race a car"]],
    edge=[[""], [" "], ["0P"], ["Aa"]],
)

problem(
    "run_length_encode", "Run-Length Encoding", "def run_length_encode(s: str) -> str:",
    """
    Compress the string `s` of lowercase letters by replacing every maximal stretch of equal consecutive
    characters with that character followed by the decimal length of the stretch (for example "aaab"
    becomes "a3b1"). Return the compressed string; an empty `s` gives an empty string.

    Constraints: `s` has between 0 and 10^5 characters.
    """,
    """
    from itertools import groupby


    def run_length_encode(s: str) -> str:
        return "".join(f"{c}{len(list(g))}" for c, g in groupby(s))
    """,
    lambda r: ["".join(r.choice("ab") * r.randint(1, 12) for _ in range(r.randint(1, 4)))],
    visible=[["aaab"], ["abc"]],
    edge=[[""], ["a"], ["aaaaaaaaaaaa"], ["abba"]],
)

problem(
    "roman_to_int", "Roman Numeral Value", "def roman_to_int(s: str) -> int:",
    """
    The string `s` is a valid Roman numeral between 1 and 3999, written with the symbols I (1), V (5),
    X (10), L (50), C (100), D (500) and M (1000), where a symbol placed before a larger one is
    subtracted (as in IV = 4 or CM = 900). Return its value as an integer.

    Constraints: `s` has between 1 and 15 characters.
    """,
    """
    def roman_to_int(s: str) -> int:
        values = {"I": 1, "V": 5, "X": 10, "L": 50, "C": 100, "D": 500, "M": 1000}
        total = 0
        for i, c in enumerate(s):
            v = values[c]
            total += -v if i + 1 < len(s) and values[s[i + 1]] > v else v
        return total
    """,
    lambda r: [_to_roman(r.randint(1, 3999))],
    visible=[["III"], ["LVIII"], ["MCMXCIV"]],
    edge=[["I"], ["IV"], ["MMMCMXCIX"], ["XL"]],
)


def _to_roman(n):
    out = ""
    for v, sym in [(1000, "M"), (900, "CM"), (500, "D"), (400, "CD"), (100, "C"), (90, "XC"), (50, "L"),
                   (40, "XL"), (10, "X"), (9, "IX"), (5, "V"), (4, "IV"), (1, "I")]:
        while n >= v:
            out, n = out + sym, n - v
    return out


# ------------------------------------------------------------------------------------------- stacks

problem(
    "is_balanced", "Balanced Brackets", "def is_balanced(s: str) -> bool:",
    """
    The string `s` consists only of the bracket characters ( ) [ ] { }. Return True if every opening
    bracket is closed by a bracket of the same type in the correct nesting order and every closing
    bracket has a matching opening one; otherwise return False. The empty string is balanced.

    Constraints: `s` has between 0 and 10^4 characters.
    """,
    """
    def is_balanced(s: str) -> bool:
        pairs, stack = {")": "(", "]": "[", "}": "{"}, []
        for c in s:
            if c in pairs:
                if not stack or stack.pop() != pairs[c]:
                    return False
            else:
                stack.append(c)
        return not stack
    """,
    lambda r: [word(r, "()[]", 0, 8)],
    visible=[["()[]{}"], ["(]"], ["{[()]}"]],
    edge=[[""], ["("], [")("], ["([)]"]],
)

problem(
    "days_until_warmer", "Waiting for Warmth", "def days_until_warmer(temps: list[int]) -> list[int]:",
    """
    The list `temps` holds the temperatures of consecutive days. For every day, find how many days you
    have to wait after it until a strictly warmer day comes, or 0 if no later day is warmer. Return
    these waiting times as a list in the order of the days.

    Constraints: `temps` has between 0 and 10^5 entries, each between -50 and 50.
    """,
    """
    def days_until_warmer(temps: list[int]) -> list[int]:
        out, stack = [0] * len(temps), []
        for i, t in enumerate(temps):
            while stack and temps[stack[-1]] < t:
                j = stack.pop()
                out[j] = i - j
            stack.append(i)
        return out
    """,
    lambda r: [ints(r, 10, 20, 1, 9)],
    visible=[[[73, 74, 75, 71, 69, 72, 76, 73]], [[30, 30]]],
    edge=[[[]], [[5]], [[1, 2]], [[2, 1]]],
    flip=flipped("warmer", "colder", """
    def days_until_warmer(temps: list[int]) -> list[int]:
        out, stack = [0] * len(temps), []
        for i, t in enumerate(temps):
            while stack and temps[stack[-1]] > t:
                j = stack.pop()
                out[j] = i - j
            stack.append(i)
        return out
    """, occurrences=2),
)

problem(
    "eval_rpn", "Postfix Arithmetic", "def eval_rpn(tokens: list[str]) -> int:",
    """
    The list `tokens` is a valid arithmetic expression in postfix (reverse Polish) notation: each entry is
    an integer literal or one of the operators +, -, * and /. An operator applies to the two values
    before it. Division truncates toward zero. Return the value of the expression.

    Constraints: `tokens` has between 1 and 10^4 entries; no division by zero occurs and every
    intermediate value fits in 32 bits.
    """,
    """
    def eval_rpn(tokens: list[str]) -> int:
        stack = []
        for t in tokens:
            if t in ("+", "-", "*", "/"):
                b, a = stack.pop(), stack.pop()
                if t == "+":
                    stack.append(a + b)
                elif t == "-":
                    stack.append(a - b)
                elif t == "*":
                    stack.append(a * b)
                else:
                    q = abs(a) // abs(b)
                    stack.append(q if (a >= 0) == (b > 0) else -q)
            else:
                stack.append(int(t))
        return stack[0]
    """,
    lambda r: [_rpn(r, r.randint(1, 3))],
    visible=[[["2", "1", "+", "3", "*"]], [["4", "13", "5", "/", "+"]]],
    edge=[[["7"]], [["-7", "2", "/"]], [["7", "-2", "/"]], [["3", "4", "-"]]],
)


def _rpn(r, depth):
    if depth == 0 or r.random() < 0.3:
        return [str(r.randint(-9, 9))]
    left, right = _rpn(r, depth - 1), _rpn(r, depth - 1)
    op = r.choice("+-*/")
    if op == "/":
        right = [str(r.choice([-3, -2, -1, 1, 2, 3]))]
    return left + right + [op]


# ---------------------------------------------------------------------------------------- intervals

problem(
    "merge_intervals", "Merge Touching Intervals", "def merge_intervals(spans: list[list[int]]) -> list[list[int]]:",
    """
    You are given a list `spans` of closed intervals, each a two-element list [start, end] of integers
    with start <= end. Merge every set of intervals that overlap or touch (one ends exactly where another
    starts) into one interval covering them, and return the merged intervals as a list of [start, end]
    lists sorted in ascending order of start. An empty input gives an empty list.

    Constraints: `spans` has between 0 and 10^4 entries; the bounds are between 0 and 10^4.
    """,
    """
    def merge_intervals(spans: list[list[int]]) -> list[list[int]]:
        out = []
        for s, e in sorted(spans):
            if out and s <= out[-1][1]:
                out[-1][1] = max(out[-1][1], e)
            else:
                out.append([s, e])
        return out
    """,
    lambda r: [[(lambda s: [s, s + r.randint(0, 3)])(r.randint(0, 15)) for _ in range(r.randint(1, 5))]],
    visible=[[[[1, 3], [2, 6], [8, 10], [15, 18]]], [[[1, 4], [4, 5]]]],
    edge=[[[]], [[[5, 5]]], [[[1, 2], [3, 4]]], [[[1, 10], [2, 3]]]],
    flip=flipped("ascending", "descending", """
    def merge_intervals(spans: list[list[int]]) -> list[list[int]]:
        out = []
        for s, e in sorted(spans):
            if out and s <= out[-1][1]:
                out[-1][1] = max(out[-1][1], e)
            else:
                out.append([s, e])
        return out[::-1]
    """),
)

problem(
    "busiest_moment", "Busiest Moment", "def busiest_moment(schedule: list[list[int]]) -> int:",
    """
    Each entry of `schedule` is a two-element list [start, end] of integers with start < end, describing
    a meeting that is in progress at every integer time t with start <= t < end. The load at time t is
    the number of meetings in progress at t. Return the earliest integer time at which the load equals
    its maximum over all times. Return -1 if `schedule` is empty.

    Constraints: `schedule` has between 0 and 10^4 entries; the times are between 0 and 10^9.
    """,
    """
    def busiest_moment(schedule: list[list[int]]) -> int:
        if not schedule:
            return -1
        delta = {}
        for s, e in schedule:
            delta[s] = delta.get(s, 0) + 1
            delta[e] = delta.get(e, 0) - 1
        load, best, at = 0, 0, -1
        for t in sorted(delta):  # the load is constant from t up to the next event time
            load += delta[t]
            if load > best:
                best, at = load, t
        return at
    """,
    lambda r: [[(lambda s: [s, s + r.randint(1, 4)])(r.randint(0, 10)) for _ in range(r.randint(1, 5))]],
    visible=[[[[1, 4], [2, 5], [7, 9]]], [[[0, 2]]]],
    edge=[[[]], [[[3, 4]]], [[[1, 3], [5, 7]]], [[[1, 5], [2, 3]]]],
    flip=flipped("earliest", "latest", """
    def busiest_moment(schedule: list[list[int]]) -> int:
        if not schedule:
            return -1
        delta = {}
        for s, e in schedule:
            delta[s] = delta.get(s, 0) + 1
            delta[e] = delta.get(e, 0) - 1
        times = sorted(delta)
        load, best, at = 0, 0, -1
        for t, nxt in zip(times, times[1:]):
            load += delta[t]
            if load >= best and load > 0:
                best, at = load, nxt - 1  # the last integer time of this constant stretch
        return at
    """),
)

problem(
    "longest_free_gap", "Longest Free Gap", "def longest_free_gap(slots: list[list[int]]) -> int:",
    """
    Each entry of `slots` is a two-element list [start, end] of integers with start < end, marking the
    half-open period from start up to (not including) end as busy. Between the beginning of the first
    busy period and the end of the last one, a free gap is a maximal stretch of time covered by no busy
    period; its length is its end minus its start. Return the length of the longest free gap, or 0 if
    there is no free gap.

    Constraints: `slots` has between 0 and 10^4 entries; the times are between 0 and 10^9.
    """,
    """
    def longest_free_gap(slots: list[list[int]]) -> int:
        best, covered_to = 0, None
        for s, e in sorted(slots):
            if covered_to is not None and s > covered_to:
                best = max(best, s - covered_to)
            covered_to = e if covered_to is None else max(covered_to, e)
        return best
    """,
    lambda r: [[(lambda s: [s, s + r.randint(1, 4)])(r.randint(0, 20)) for _ in range(r.randint(1, 5))]],
    visible=[[[[1, 3], [6, 7], [9, 12]]], [[[0, 5], [5, 8]]]],
    edge=[[[]], [[[2, 4]]], [[[1, 2], [4, 5]]], [[[1, 10], [2, 3], [12, 13]]]],
    flip=flipped("longest", "shortest", """
    def longest_free_gap(slots: list[list[int]]) -> int:
        best, covered_to = None, None
        for s, e in sorted(slots):
            if covered_to is not None and s > covered_to:
                best = s - covered_to if best is None else min(best, s - covered_to)
            covered_to = e if covered_to is None else max(covered_to, e)
        return best or 0
    """),
)

# ----------------------------------------------------------------------------- dynamic programming

problem(
    "stair_cost", "Paid Staircase", "def stair_cost(fees: list[int]) -> int:",
    """
    A staircase has steps numbered from 0, and standing on step `i` charges `fees[i]`. You start on step
    0 or on step 1, as you choose, and from step `i` you move up to step `i` + 1 or `i` + 2; you pay the
    charge of every step you stand on. You reach the top when you move past the last step. Return the
    minimum total amount you can pay to reach the top.

    Constraints: `fees` has between 2 and 1000 entries, each between 0 and 999.
    """,
    """
    def stair_cost(fees: list[int]) -> int:
        a, b = 0, 0  # cheapest total to stand just before step i - 1 and step i
        for f in fees:
            a, b = b, f + min(a, b)
        return min(a, b)
    """,
    lambda r: [ints(r, 0, 20, 2, 9)],
    visible=[[[10, 15, 20]], [[1, 100, 1, 1, 1, 100, 1, 1, 100, 1]]],
    edge=[[[0, 0]], [[1, 2]], [[5, 5, 5]], [[3, 1, 3]]],
    flip=flipped("minimum", "maximum", """
    def stair_cost(fees: list[int]) -> int:
        a, b = 0, 0
        for f in fees:
            a, b = b, f + max(a, b)
        return max(a, b)
    """),
)

problem(
    "coin_change", "Coins for an Amount", "def coin_change(denoms: list[int], amount: int) -> int:",
    """
    You have an unlimited supply of coins of each denomination in the list of distinct positive integers
    `denoms`. Return the minimum number of coins whose values add up to exactly `amount`. Return 0 when
    `amount` is 0, and -1 when no combination of coins adds up to `amount`.

    Constraints: `denoms` has between 1 and 12 entries, each between 1 and 10^4; `amount` is between 0
    and 10^4.
    """,
    """
    def coin_change(denoms: list[int], amount: int) -> int:
        inf = amount + 1
        best = [0] + [inf] * amount
        for v in range(1, amount + 1):
            for c in denoms:
                if c <= v and best[v - c] + 1 < best[v]:
                    best[v] = best[v - c] + 1
        return best[amount] if best[amount] <= amount else -1
    """,
    lambda r: [sorted(r.sample(range(1, 9), r.randint(1, 3))), r.randint(0, 20)],
    visible=[[[1, 2, 5], 11], [[2], 3]],
    edge=[[[1], 0], [[3], 9], [[5, 7], 1], [[1, 4], 8]],
    flip=flipped("minimum", "maximum", """
    def coin_change(denoms: list[int], amount: int) -> int:
        most = [0] + [-1] * amount
        for v in range(1, amount + 1):
            for c in denoms:
                if c <= v and most[v - c] >= 0 and most[v - c] + 1 > most[v]:
                    most[v] = most[v - c] + 1
        return most[amount]
    """),
)

problem(
    "longest_increasing", "Longest Rising Subsequence", "def longest_increasing(nums: list[int]) -> int:",
    """
    Return the length of the longest strictly increasing subsequence of the list of integers `nums`. A
    subsequence keeps the original order of the elements but may skip some of them. Return 0 for an
    empty list.

    Constraints: `nums` has between 0 and 2500 elements, each between -10^4 and 10^4.
    """,
    """
    from bisect import bisect_left


    def longest_increasing(nums: list[int]) -> int:
        tails = []  # tails[L] = smallest tail of an increasing subsequence of length L + 1
        for x in nums:
            i = bisect_left(tails, x)
            tails[i : i + 1] = [x]
        return len(tails)
    """,
    lambda r: [ints(r, 0, 9, 1, 9)],
    visible=[[[10, 9, 2, 5, 3, 7, 101, 18]], [[7, 7, 7]]],
    edge=[[[]], [[1]], [[1, 2, 3]], [[3, 2, 1]]],
    flip=flipped("increasing", "decreasing", """
    from bisect import bisect_left


    def longest_increasing(nums: list[int]) -> int:
        tails = []
        for x in nums:
            i = bisect_left(tails, -x)
            tails[i : i + 1] = [-x]
        return len(tails)
    """),
)

problem(
    "common_subsequence_length", "Shared Subsequence", "def common_subsequence_length(text1: str, text2: str) -> int:",
    """
    Return the length of the longest string that is a subsequence of both `text1` and `text2`. A
    subsequence keeps the original order of the characters but may skip some of them.

    Constraints: each of `text1` and `text2` has between 0 and 1000 lowercase English letters.
    """,
    """
    def common_subsequence_length(text1: str, text2: str) -> int:
        prev = [0] * (len(text2) + 1)
        for a in text1:
            cur = [0]
            for j, b in enumerate(text2):
                cur.append(prev[j] + 1 if a == b else max(prev[j + 1], cur[j]))
            prev = cur
        return prev[-1]
    """,
    lambda r: [word(r, "abc", 0, 7), word(r, "abc", 0, 7)],
    visible=[["abcde", "ace"], ["abc", "def"]],
    edge=[["", ""], ["a", ""], ["a", "a"], ["ab", "ba"]],
    # the shortest common subsequence is the empty string: a trivial flipped task, kept for its word
    flip=flipped("longest", "shortest", """
    def common_subsequence_length(text1: str, text2: str) -> int:
        return 0
    """),
)

problem(
    "max_non_adjacent", "No Two Neighbours", "def max_non_adjacent(nums: list[int]) -> int:",
    """
    Choose some positions of the list of non-negative integers `nums` such that no two chosen positions
    are next to each other. Return the largest possible total of the chosen elements; choosing nothing
    gives 0.

    Constraints: `nums` has between 0 and 10^4 elements, each between 0 and 10^4.
    """,
    """
    def max_non_adjacent(nums: list[int]) -> int:
        take, skip = 0, 0  # best totals with the previous element taken / not taken
        for x in nums:
            take, skip = skip + x, max(take, skip)
        return max(take, skip)
    """,
    lambda r: [ints(r, 0, 15, 0, 9)],
    visible=[[[2, 7, 9, 3, 1]], [[1, 2, 3, 1]]],
    edge=[[[]], [[5]], [[5, 6]], [[0, 0, 0]]],
    # the flipped task is trivial (choose nothing); it still tests whether the model reads the word
    flip=flipped("largest", "smallest", """
    def max_non_adjacent(nums: list[int]) -> int:
        return 0
    """),
)

# ------------------------------------------------------------------------------------------- greedy

# (largest_concatenation, remove_digits and min_jumps above are greedy as well)

problem(
    "assign_rooms", "Rooms for Meetings", "def assign_rooms(schedule: list[list[int]]) -> int:",
    """
    Each entry of `schedule` is a two-element list [start, end] of integers with start < end, a meeting
    that occupies a room from start up to (not including) end. A room can host one meeting at a time,
    and a meeting may start in a room at the moment another one ends there. Rooms are reused whenever
    possible. Return the number of rooms needed to hold all meetings.

    Constraints: `schedule` has between 0 and 10^4 entries; the times are between 0 and 10^6.
    """,
    """
    import heapq


    def assign_rooms(schedule: list[list[int]]) -> int:
        ends = []  # end times of the meetings currently holding a room
        for s, e in sorted(schedule):
            if ends and ends[0] <= s:
                heapq.heapreplace(ends, e)
            else:
                heapq.heappush(ends, e)
        return len(ends)
    """,
    lambda r: [[(lambda s: [s, s + r.randint(1, 5)])(r.randint(0, 10)) for _ in range(r.randint(1, 6))]],
    visible=[[[[0, 30], [5, 10], [15, 20]]], [[[7, 10], [2, 4]]]],
    edge=[[[]], [[[1, 2]]], [[[1, 2], [2, 3]]], [[[1, 5], [1, 5]]]],
)

# --------------------------------------------------------------------------------------------- math

problem(
    "largest_prime_factor", "Largest Prime Divisor", "def largest_prime_factor(n: int) -> int:",
    """
    Given an integer `n` that is at least 2, return the largest prime number that divides `n`.

    Constraints: `n` is between 2 and 10^12.
    """,
    """
    def largest_prime_factor(n: int) -> int:
        best, d = 1, 2
        while d * d <= n:
            while n % d == 0:
                best, n = d, n // d
            d += 1
        return max(best, n) if n > 1 else best
    """,
    lambda r: [r.randint(2, 2000)],
    visible=[[13195], [17]],
    edge=[[2], [4], [6], [999999999989]],
    flip=flipped("largest", "smallest", """
    def largest_prime_factor(n: int) -> int:
        d = 2
        while d * d <= n:
            if n % d == 0:
                return d
            d += 1
        return n
    """),
)

problem(
    "binary_gap", "Gaps Between One Bits", "def binary_gap(n: int) -> int:",
    """
    Write the positive integer `n` in binary. For two 1 bits with only 0 bits between them, their
    distance is the difference of their positions (so the bits of 101 are at distance 2). Return the
    longest such distance, or 0 if `n` has fewer than two 1 bits.

    Constraints: `n` is between 1 and 10^9.
    """,
    """
    def binary_gap(n: int) -> int:
        ones = [i for i, b in enumerate(reversed(bin(n)[2:])) if b == "1"]
        return max((b - a for a, b in zip(ones, ones[1:])), default=0)
    """,
    lambda r: [r.randint(1, 600)],
    visible=[[22], [8], [5]],
    edge=[[1], [3], [6], [1041]],
    flip=flipped("longest", "shortest", """
    def binary_gap(n: int) -> int:
        ones = [i for i, b in enumerate(reversed(bin(n)[2:])) if b == "1"]
        return min((b - a for a, b in zip(ones, ones[1:])), default=0)
    """),
)

problem(
    "count_even_length", "Even-Length Numbers", "def count_even_length(nums: list[int]) -> int:",
    """
    Given a list of non-negative integers `nums`, return how many of them are written with an even
    number of decimal digits (0 is written with one digit).

    Constraints: `nums` has between 0 and 10^4 elements, each between 0 and 10^9.
    """,
    """
    def count_even_length(nums: list[int]) -> int:
        return sum(1 for x in nums if len(str(x)) % 2 == 0)
    """,
    lambda r: [[r.choice([r.randint(0, 9), r.randint(10, 99), r.randint(100, 999), r.randint(1000, 99999)])
                for _ in range(r.randint(1, 7))]],
    visible=[[[12, 345, 2, 6, 7896]], [[555, 901, 482, 1771]]],
    edge=[[[]], [[0]], [[10]], [[100000, 7]]],
    flip=flipped("even", "odd", """
    def count_even_length(nums: list[int]) -> int:
        return sum(1 for x in nums if len(str(x)) % 2 == 1)
    """),
)

problem(
    "digits_increasing", "Rising Digits", "def digits_increasing(n: int) -> bool:",
    """
    Given a non-negative integer `n`, return True if its decimal digits, read from left to right, are
    strictly increasing, and False otherwise. A number with a single digit is considered strictly
    increasing.

    Constraints: `n` is between 0 and 10^18.
    """,
    """
    def digits_increasing(n: int) -> bool:
        d = str(n)
        return all(a < b for a, b in zip(d, d[1:]))
    """,
    lambda r: [r.choice([int("".join(sorted(r.sample("123456789", r.randint(2, 5))))),
                         int("".join(sorted(r.sample("0123456789", r.randint(2, 5)), reverse=True))),
                         r.randint(10, 99999)])],
    visible=[[1357], [1337], [7]],
    edge=[[0], [10], [12], [21]],
    flip=flipped("increasing", "decreasing", """
    def digits_increasing(n: int) -> bool:
        d = str(n)
        return all(a > b for a, b in zip(d, d[1:]))
    """, occurrences=2),
)

problem(
    "count_primes", "Primes Below a Bound", "def count_primes(n: int) -> int:",
    """
    Return how many prime numbers are strictly less than the non-negative integer `n`.

    Constraints: `n` is between 0 and 5 * 10^6.
    """,
    """
    def count_primes(n: int) -> int:
        if n < 3:
            return 0
        sieve = bytearray([1]) * n
        sieve[0] = sieve[1] = 0
        for p in range(2, int(n ** 0.5) + 1):
            if sieve[p]:
                sieve[p * p : n : p] = bytearray(len(range(p * p, n, p)))
        return sum(sieve)
    """,
    lambda r: [r.randint(0, 500)],
    visible=[[10], [0]],
    edge=[[1], [2], [3], [100000]],
)

# -------------------------------------------------------------------------------------------- grids

problem(
    "rotate_square", "Quarter Turn", "def rotate_square(matrix: list[list[int]]) -> list[list[int]]:",
    """
    The square `matrix` is given as a list of rows. Return a new list of rows holding the same values
    turned by 90 degrees clockwise.

    Constraints: `matrix` has between 1 and 100 rows, and as many columns as rows.
    """,
    """
    def rotate_square(matrix: list[list[int]]) -> list[list[int]]:
        return [list(row) for row in zip(*matrix[::-1])]
    """,
    lambda r: (lambda n: [[[r.randint(0, 9) for _ in range(n)] for _ in range(n)]])(r.randint(1, 4)),
    visible=[[[[1, 2], [3, 4]]], [[[1, 2, 3], [4, 5, 6], [7, 8, 9]]]],
    edge=[[[[5]]], [[[1, 1], [1, 1]]], [[[1, 0], [0, 1]]], [[[0, 1], [1, 0]]]],
    flip=flipped("clockwise", "counterclockwise", """
    def rotate_square(matrix: list[list[int]]) -> list[list[int]]:
        return [list(row) for row in zip(*matrix)][::-1]
    """),
)

problem(
    "spiral_order", "Spiral Walk", "def spiral_order(matrix: list[list[int]]) -> list[int]:",
    """
    The rectangular `matrix` is given as a list of rows. Return its values in spiral order: start at the
    top-left corner and walk once around the outermost ring in the clockwise direction, then do the same
    for the ring just inside it, again starting at its top-left corner, and so on, until every value has
    been taken exactly once, as a list; an input without rows gives an empty list.

    Constraints: `matrix` has between 0 and 10 rows, all of the same length between 1 and 10.
    """,
    """
    def spiral_order(matrix: list[list[int]]) -> list[int]:
        out, rows = [], [list(r) for r in matrix]
        while rows:
            out += rows.pop(0)  # top row, left to right; then turn what is left
            rows = [list(r) for r in zip(*rows)][::-1]
        return out
    """,
    lambda r: (lambda h, w: [[[r.randint(0, 9) for _ in range(w)] for _ in range(h)]])(r.randint(1, 4), r.randint(1, 4)),
    visible=[[[[1, 2, 3], [4, 5, 6], [7, 8, 9]]], [[[1, 2, 3, 4]]]],
    edge=[[[]], [[[1]]], [[[1], [2], [3]]], [[[1, 2], [3, 4]]]],
    flip=flipped("clockwise", "counterclockwise", """
    def spiral_order(matrix: list[list[int]]) -> list[int]:
        # counterclockwise from the top-left corner = clockwise walk of the transposed matrix
        out, rows = [], [list(c) for c in zip(*matrix)]
        while rows:
            out += rows.pop(0)
            rows = [list(r) for r in zip(*rows)][::-1]
        return out
    """),
)

problem(
    "largest_island", "Largest Island", "def largest_island(grid: list[list[int]]) -> int:",
    """
    The rectangular `grid` is a list of rows of 0s (water) and 1s (land). An island is a maximal set of
    land cells connected through horizontally or vertically adjacent land cells. Return the area (number
    of cells) of the largest island, or 0 if there is no land.

    Constraints: `grid` has between 1 and 50 rows of equal length between 1 and 50.
    """,
    """
    def largest_island(grid: list[list[int]]) -> int:
        h, w, seen, best = len(grid), len(grid[0]), set(), 0
        for i in range(h):
            for j in range(w):
                if grid[i][j] and (i, j) not in seen:
                    seen.add((i, j))
                    stack, area = [(i, j)], 0
                    while stack:
                        y, x = stack.pop()
                        area += 1
                        for ny, nx in ((y + 1, x), (y - 1, x), (y, x + 1), (y, x - 1)):
                            if 0 <= ny < h and 0 <= nx < w and grid[ny][nx] and (ny, nx) not in seen:
                                seen.add((ny, nx))
                                stack.append((ny, nx))
                    best = max(best, area)
        return best
    """,
    lambda r: [bits(r, r.randint(1, 5), r.randint(1, 5), 0.45)],
    visible=[[[[1, 1, 0], [0, 1, 0], [0, 0, 1]]], [[[0, 0]]]],
    edge=[[[[1]]], [[[0]]], [[[1, 0, 1]]], [[[1, 1], [1, 1]]]],
    flip=flipped("largest", "smallest", """
    def largest_island(grid: list[list[int]]) -> int:
        h, w, seen, best = len(grid), len(grid[0]), set(), None
        for i in range(h):
            for j in range(w):
                if grid[i][j] and (i, j) not in seen:
                    seen.add((i, j))
                    stack, area = [(i, j)], 0
                    while stack:
                        y, x = stack.pop()
                        area += 1
                        for ny, nx in ((y + 1, x), (y - 1, x), (y, x + 1), (y, x - 1)):
                            if 0 <= ny < h and 0 <= nx < w and grid[ny][nx] and (ny, nx) not in seen:
                                seen.add((ny, nx))
                                stack.append((ny, nx))
                    best = area if best is None else min(best, area)
        return best or 0
    """),
)

problem(
    "shortest_path", "Shortest Route Through a Maze", "def shortest_path(grid: list[list[int]]) -> int:",
    """
    The rectangular `grid` is a list of rows of 0s (open cells) and 1s (walls). You move between
    horizontally or vertically adjacent open cells. Return the number of cells on a shortest route from
    the top-left cell to the bottom-right cell, counting both ends, or -1 if either of them is a wall or
    no route exists.

    Constraints: `grid` has between 1 and 100 rows of equal length between 1 and 100.
    """,
    """
    from collections import deque


    def shortest_path(grid: list[list[int]]) -> int:
        h, w = len(grid), len(grid[0])
        if grid[0][0] or grid[h - 1][w - 1]:
            return -1
        dist = {(0, 0): 1}
        queue = deque([(0, 0)])
        while queue:
            y, x = queue.popleft()
            if (y, x) == (h - 1, w - 1):
                return dist[(y, x)]
            for ny, nx in ((y + 1, x), (y - 1, x), (y, x + 1), (y, x - 1)):
                if 0 <= ny < h and 0 <= nx < w and not grid[ny][nx] and (ny, nx) not in dist:
                    dist[(ny, nx)] = dist[(y, x)] + 1
                    queue.append((ny, nx))
        return -1
    """,
    lambda r: [bits(r, r.randint(1, 5), r.randint(1, 5), 0.3)],
    visible=[[[[0, 1], [0, 0]]], [[[0, 0, 0], [1, 1, 0], [0, 0, 0]]]],
    edge=[[[[0]]], [[[1]]], [[[0, 1], [1, 0]]], [[[0, 0, 1]]]],
)

problem(
    "best_path_sum", "Downhill Path Sum", "def best_path_sum(grid: list[list[int]]) -> int:",
    """
    The rectangular `grid` is a non-empty list of rows of integers. Walk from the top-left cell to the
    bottom-right cell, moving one cell right or one cell down at a time. Return the maximum possible sum
    of the values of all visited cells, both ends included.

    Constraints: `grid` has between 1 and 200 rows of equal length between 1 and 200; values are between
    -100 and 100.
    """,
    """
    def best_path_sum(grid: list[list[int]]) -> int:
        h, w = len(grid), len(grid[0])
        best = [[0] * w for _ in range(h)]
        for i in range(h):
            for j in range(w):
                before = [best[i - 1][j]] * (i > 0) + [best[i][j - 1]] * (j > 0)
                best[i][j] = grid[i][j] + (max(before) if before else 0)
        return best[h - 1][w - 1]
    """,
    lambda r: (lambda h, w: [[[r.randint(-5, 9) for _ in range(w)] for _ in range(h)]])(r.randint(1, 4), r.randint(1, 4)),
    visible=[[[[1, 3, 1], [1, 5, 1], [4, 2, 1]]], [[[1, 2, 3], [4, 5, 6]]]],
    edge=[[[[7]]], [[[1, 2, 3]]], [[[1], [2]]], [[[0, 0], [0, 0]]]],
    flip=flipped("maximum", "minimum", """
    def best_path_sum(grid: list[list[int]]) -> int:
        h, w = len(grid), len(grid[0])
        best = [[0] * w for _ in range(h)]
        for i in range(h):
            for j in range(w):
                before = [best[i - 1][j]] * (i > 0) + [best[i][j - 1]] * (j > 0)
                best[i][j] = grid[i][j] + (min(before) if before else 0)
        return best[h - 1][w - 1]
    """),
)

problem(
    "kth_smallest_in_sorted", "K-th Value of a Sorted Matrix",
    "def kth_smallest_in_sorted(matrix: list[list[int]], k: int) -> int:",
    """
    The square `matrix` is a list of rows in which every row and every column is sorted in non-decreasing
    order. Return the `k`-th smallest of all its values, counting equal values separately.

    Constraints: `matrix` has between 1 and 300 rows, as many columns as rows; `k` is between 1 and the
    number of values.
    """,
    """
    import heapq


    def kth_smallest_in_sorted(matrix: list[list[int]], k: int) -> int:
        n = len(matrix)
        heap = [(matrix[i][0], i, 0) for i in range(n)]  # the smallest unused value of each row
        heapq.heapify(heap)
        for _ in range(k - 1):
            _, i, j = heapq.heappop(heap)
            if j + 1 < n:
                heapq.heappush(heap, (matrix[i][j + 1], i, j + 1))
        return heap[0][0]
    """,
    lambda r: (lambda m: [m, r.randint(1, len(m) ** 2)])(_sorted_matrix(r, r.randint(1, 4))),
    visible=[[[[1, 5, 9], [10, 11, 13], [12, 13, 15]], 8], [[[-5]], 1]],
    edge=[[[[1, 2], [1, 3]], 2], [[[1, 2], [3, 4]], 4], [[[2, 2], [2, 2]], 3], [[[1, 4], [2, 5]], 1]],
    flip=flipped("smallest", "largest", """
    def kth_smallest_in_sorted(matrix: list[list[int]], k: int) -> int:
        return sorted(v for row in matrix for v in row)[-k]
    """),
)


def _sorted_matrix(r, n):
    m = [[0] * n for _ in range(n)]
    for i in range(n):
        for j in range(n):
            m[i][j] = max(m[i - 1][j] if i else 0, m[i][j - 1] if j else 0) + r.randint(0, 3)
    return m


# ----------------------------------------------------------------------------------------- building


def _load(src: str, entry: str):
    ns: dict = {}
    exec(compile(src, f"<reference {entry}>", "exec"), ns)  # project-written reference code
    return ns[entry]


def _strict_json(x) -> bool:
    """Plain JSON only: no floats, tuples, sets or other types that would not round-trip."""
    if x is None or isinstance(x, (bool, int, str)):
        return True
    if isinstance(x, list):
        return all(_strict_json(v) for v in x)
    if isinstance(x, dict):
        return all(isinstance(k, str) and _strict_json(v) for k, v in x.items())
    return False


def _key(args) -> str:
    return json.dumps(args, sort_keys=True)


def _call(fn, args):
    out = fn(*copy.deepcopy(args))
    if not _strict_json(out):
        raise ValueError(f"{fn.__name__}{tuple(args)} returned non-JSON {out!r}")
    return out


def _tests(fn, inputs):
    return [{"args": a, "expected": _call(fn, a)} for a in inputs]


def _dedup(inputs, exclude=()):
    seen, out = {_key(a) for a in exclude}, []
    for a in inputs:
        if _key(a) not in seen:
            seen.add(_key(a))
            out.append(a)
    return out


def build_one(p: dict) -> dict:
    name = p["signature"].split("(")[0].split()[-1]
    ref = _load(p["reference"], name)
    r = random.Random(zlib.crc32(p["slug"].encode()))
    pool = _dedup([p["gen"](r) for _ in range(N_POOL)], exclude=p["visible"] + p["edge"])
    for a in p["visible"] + p["edge"] + pool:
        if not _strict_json(a):
            raise ValueError(f"{p['slug']}: non-JSON args {a!r}")
    row = {
        "task_id": f"leetcode50/{p['slug']}", "title": p["title"], "statement": p["statement"], "entry_point": name,
        "signature": p["signature"], "reference": p["reference"], "visible_tests": _tests(ref, p["visible"]),
    }
    f = p["flip"]
    if f is None:
        row["tests"] = _tests(ref, _dedup(p["edge"] + pool, exclude=p["visible"])[:N_HIDDEN])
        row["flip"] = None
    else:
        fref = _load(f["reference"], name)
        differs = [a for a in pool if _call(ref, a) != _call(fref, a)]
        if len(differs) < 2 * N_HIDDEN + 3:
            raise ValueError(f"{p['slug']}: only {len(differs)} random inputs tell the flip apart")
        # original hidden tests: the edge cases plus inputs that separate the two tasks
        hidden = _dedup(p["edge"] + differs, exclude=p["visible"])[:N_HIDDEN]
        row["tests"] = _tests(ref, hidden)
        sep_visible = [a for a in p["visible"] if _call(ref, a) != _call(fref, a)]
        fhidden = _dedup([a for a in hidden if _call(ref, a) != _call(fref, a)] + differs, exclude=sep_visible)
        fhidden = fhidden[:N_HIDDEN]
        fvisible = (sep_visible + _dedup(differs, exclude=fhidden + sep_visible))[:3]
        statement, n = replace_word(p["statement"], f["frm"], f["to"])
        if n != f["occurrences"]:
            raise ValueError(f"{p['slug']}: flip word {f['frm']!r} occurs {n} times, expected {f['occurrences']}")
        statement = f["statement"] or statement
        row["flip"] = {"from": f["frm"], "to": f["to"], "statement": statement, "reference": f["reference"],
                       "visible_tests": _tests(fref, fvisible), "tests": _tests(fref, fhidden)}
    row["jargon"] = jargon_variants(p["statement"])
    return row


def build() -> list[dict]:
    rows = [build_one(p) for p in PROBLEMS]
    ids = [r["task_id"] for r in rows]
    if len(set(ids)) != len(ids):
        raise ValueError("duplicate task ids")
    return rows


def render(rows: list[dict]) -> str:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--check", action="store_true", help="compare a rebuild with the shipped file instead of writing")
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args()
    rows = build()
    text = render(rows)
    n_flip = sum(r["flip"] is not None for r in rows)
    n_jargon = sum(len(r["jargon"]) for r in rows)
    if args.check:
        same = args.out.exists() and args.out.read_text() == text
        print(f"{args.out}: {'up to date' if same else 'DIFFERS from a rebuild'}")
        return 0 if same else 1
    args.out.write_text(text)
    print(f"wrote {args.out}: {len(rows)} problems, {n_flip} flips, {n_jargon} jargon variants")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
