"""Build tasks/data/judge_pairs.jsonl: labelled pairs for measuring judge quality offline.

Three families, all with objective labels:
  correctness            a correct answer vs a subtly wrong one (label: the correct one)
  instruction_following  an answer that meets a checkable constraint vs one that does not (label: the one that does)
  verbosity_tie          the same content, concise vs padded with filler (label: tie; a judge that
                         prefers the padded one shows length bias)

The content below is written by hand for this project. Which slot (A/B) gets the correct / following /
padded response is decided by a seeded permutation per family (exactly balanced, not hand-placed), and
the row order is a seeded shuffle so that a `--limit` run still sees all three families.

Run: .venv/bin/python tasks/data/build_judge_pairs.py   (rewrites the file; tests check it is up to date)
"""

from __future__ import annotations

import json
from pathlib import Path

from evalkit.seeding import rng

SEED = 20240611
OUT = Path(__file__).resolve().parent / "judge_pairs.jsonl"

# (instruction, input, correct, wrong, note)
CORRECTNESS = [
    ("What is 17 × 24? Show the working briefly.", "",
     "17 × 24 = 17 × 20 + 17 × 4 = 340 + 68 = 408.",
     "17 × 24 = 17 × 20 + 17 × 4 = 340 + 68 = 418.",
     "340 + 68 = 408; the wrong answer adds the partial products incorrectly (418)."),
    ("Convert 5 miles to kilometres, rounded to two decimal places. Use 1 mile = 1.609344 km.", "",
     "5 × 1.609344 = 8.04672 km, which rounds to 8.05 km.",
     "5 × 1.609344 = 8.04672 km, which rounds to 8.04 km.",
     "8.04672 rounds to 8.05 at two decimals; 8.04 truncates instead of rounding."),
    ("What day of the week was 1 January 2000?", "",
     "1 January 2000 was a Saturday.",
     "1 January 2000 was a Friday.",
     "1 January 2000 fell on a Saturday in the Gregorian calendar."),
    ("How many days are there in July and August combined?", "",
     "July has 31 days and August has 31 days, so together they have 62 days.",
     "July has 31 days and August has 30 days, so together they have 61 days.",
     "August has 31 days, not 30; the total is 62."),
    ("What is the chemical symbol for potassium?", "",
     "The chemical symbol for potassium is K, from its Latin name kalium.",
     "The chemical symbol for potassium is P, from the first letter of its name.",
     "Potassium is K; P is phosphorus."),
    ("What does this Python code print?", 'print(len("hello world"))',
     "It prints 11: the string has 10 letters plus one space, and len counts every character.",
     "It prints 10: the string has 10 letters, and len counts the letters.",
     "len counts the space as well, so the output is 11."),
    ("What does this Python code print?", "x = [1, 2, 3]\ny = x\ny.append(4)\nprint(x)",
     "It prints [1, 2, 3, 4]: assigning y = x does not copy the list, so appending through y also changes x.",
     "It prints [1, 2, 3]: assigning y = x makes a copy, so appending to y leaves x unchanged.",
     "y = x binds a second name to the same list; x shows the appended 4."),
    ("How many times does the letter 'r' appear in the word 'strawberry'?", "",
     "The letter 'r' appears 3 times in 'strawberry': once in 'straw' and twice in 'berry'.",
     "The letter 'r' appears 2 times in 'strawberry': once in 'straw' and once in 'berry'.",
     "s-t-r-a-w-b-e-r-r-y contains three r's; 'berry' has two."),
    ("Every glimmet is a tovo, and every tovo is a prand. Is every glimmet a prand? Answer in one sentence.", "",
     "Yes: every glimmet is a tovo and every tovo is a prand, so every glimmet must be a prand.",
     "Not necessarily: we only know that glimmets are tovos, so some glimmets might not be prands.",
     "The conclusion follows by transitivity of 'every X is a Y'."),
    ("What is 15% of 240?", "",
     "10% of 240 is 24 and 5% is 12, so 15% of 240 is 36.",
     "10% of 240 is 24 and 5% is 10, so 15% of 240 is 34.",
     "5% of 240 is 12, not 10; 15% of 240 is 36."),
    ("How many seconds are there in 3 hours?", "",
     "One hour has 3,600 seconds, so 3 hours have 3 × 3,600 = 10,800 seconds.",
     "One hour has 3,600 seconds, so 3 hours have 3 × 3,600 = 10,080 seconds.",
     "3 × 3,600 = 10,800; 10,080 is a multiplication slip."),
    ("Convert 25 °C to Fahrenheit.", "",
     "F = C × 9/5 + 32 = 25 × 9/5 + 32 = 45 + 32 = 77 °F.",
     "F = C × 5/9 + 32 = 25 × 5/9 + 32 ≈ 13.9 + 32 = 45.9 °F.",
     "The conversion multiplies by 9/5, not 5/9; 25 °C is 77 °F."),
    ("What is the area of a circle with radius 3 cm? Give one decimal place.", "",
     "Area = πr² = π × 3² = 9π ≈ 28.3 cm².",
     "Area = 2πr = 2 × π × 3 ≈ 18.8 cm².",
     "2πr is the circumference; the area is πr² ≈ 28.3 cm²."),
    ("What is the smallest prime number greater than 89?", "",
     "90, 92, 94 and 96 are even, 91 = 7 × 13, 93 = 3 × 31 and 95 = 5 × 19, so the next prime is 97.",
     "90 is even and 91 has no small divisors, so the next prime after 89 is 91.",
     "91 = 7 × 13 is composite; the next prime after 89 is 97."),
    ("What is the square root of 1,764?", "",
     "The square root of 1,764 is 42, since 42 × 42 = 1,764.",
     "The square root of 1,764 is 41, since 41 × 41 = 1,764.",
     "41 × 41 = 1,681; 42 × 42 = 1,764."),
    ("How many bones are in a typical adult human skeleton?", "",
     "A typical adult human skeleton has 206 bones.",
     "A typical adult human skeleton has 212 bones.",
     "The standard count for an adult is 206."),
    ("What is the boiling point of water at sea level, in kelvin?", "",
     "At standard sea-level pressure water boils at 100 °C, which is 373.15 K.",
     "At standard sea-level pressure water boils at 100 °C, which is 273.15 K.",
     "K = °C + 273.15, so 100 °C is 373.15 K; 273.15 K is the freezing point."),
    ("Who wrote the novel 'Pride and Prejudice'?", "",
     "'Pride and Prejudice' was written by Jane Austen and published in 1813.",
     "'Pride and Prejudice' was written by Charlotte Brontë and published in 1813.",
     "The author is Jane Austen."),
    ("In which year did the Berlin Wall fall?", "",
     "The Berlin Wall fell in 1989, when the border crossings opened on 9 November.",
     "The Berlin Wall fell in 1991, when the border crossings opened on 9 November.",
     "The wall fell on 9 November 1989; 1991 is the year the Soviet Union dissolved."),
    ("What does this Python code print?", "print(7 // 2, 7 % 2)",
     "It prints 3 1: // is floor division and % is the remainder.",
     "It prints 3.5 1: // divides the numbers and % is the remainder.",
     "7 // 2 is floor division and gives the integer 3, not 3.5."),
    ("What does this Python code print?", "print(sorted([3, 10, 2], key=str))",
     "It prints [10, 2, 3]: the numbers are compared as strings, and '1' sorts before '2' and '3'.",
     "It prints [2, 3, 10]: sorted puts the numbers in ascending order.",
     "With key=str the comparison is lexicographic: '10' < '2' < '3'."),
    ("What does this Python code print?", 'print("python"[1:4])',
     "It prints yth: the slice takes indices 1, 2 and 3 and stops before index 4.",
     "It prints ytho: the slice takes indices 1 to 4.",
     "Slice ends are exclusive, so [1:4] is 'yth'."),
    ("What does this Python code print?", "print(list(range(2, 11, 3)))",
     "It prints [2, 5, 8]: the next value, 11, is the stop value and is excluded.",
     "It prints [2, 5, 8, 11]: the range counts from 2 up to 11 in steps of 3.",
     "range excludes its stop value, so 11 is not included."),
    ("What does this JavaScript expression evaluate to?", "0.1 + 0.2 === 0.3",
     "It evaluates to false, because 0.1 + 0.2 is 0.30000000000000004 in binary floating point.",
     "It evaluates to true, because 0.1 + 0.2 equals 0.3.",
     "IEEE-754 doubles give 0.30000000000000004, so strict equality fails."),
    ("What does this Python code print?", 'print(bool(""), bool(" "))',
     "It prints False True: the empty string is falsy, but a string containing a space is not empty.",
     "It prints False False: both strings contain no visible characters, so both are falsy.",
     "Only the empty string is falsy; ' ' has length 1 and is truthy."),
    ("A notebook and a pen cost $3.30 in total. The notebook costs $3.00 more than the pen. How much does the pen cost?", "",
     "If the pen costs p, then p + (p + 3.00) = 3.30, so 2p = 0.30 and the pen costs $0.15.",
     "The notebook costs $3.00, so the pen costs $3.30 − $3.00 = $0.30.",
     "With pen = $0.30 the notebook would be $3.30 and the total $3.60; the pen costs $0.15."),
    ("A train leaves at 14:45 and the journey takes 2 hours 35 minutes. When does it arrive?", "",
     "14:45 plus 2 hours is 16:45, and 35 more minutes makes it 17:20.",
     "14:45 plus 2 hours is 16:45, and 35 more minutes makes it 17:10.",
     "16:45 + 35 min = 17:20."),
    ("What date is 100 days after 1 January 2024?", "",
     "2024 is a leap year, so counting 31 (January) + 29 (February) + 31 (March) days brings you to 1 April, and 9 more days gives 10 April 2024.",
     "Counting 31 (January) + 28 (February) + 31 (March) days brings you to 31 March, and 10 more days gives 11 April 2024.",
     "February 2024 has 29 days; 1 January 2024 + 100 days is 10 April 2024."),
    ("Is the year 2100 a leap year in the Gregorian calendar?", "",
     "No. 2100 is divisible by 100 but not by 400, so it is not a leap year.",
     "Yes. 2100 is divisible by 4, so it is a leap year.",
     "Century years are leap years only if divisible by 400."),
    ("How many vowels (a, e, i, o, u) are in the word 'encyclopedia'?", "",
     "'Encyclopedia' contains 5 vowels: e, o, e, i and a.",
     "'Encyclopedia' contains 4 vowels: e, o, e and a.",
     "e-n-c-y-c-l-o-p-e-d-i-a has e, o, e, i, a: five."),
    ("Which spelling is correct: 'accommodate' or 'accomodate'?", "",
     "'Accommodate' is correct: it has a double c and a double m.",
     "'Accomodate' is correct: it has a double c and a single m.",
     "The standard spelling is 'accommodate', with double m."),
    ("How many letters are in 'Mississippi', and how many of them are 's'?", "",
     "'Mississippi' has 11 letters, and 4 of them are 's'.",
     "'Mississippi' has 11 letters, and 3 of them are 's'.",
     "M-i-s-s-i-s-s-i-p-p-i has four s's."),
    ("Two fair six-sided dice are rolled. What is the probability that the sum is 7?", "",
     "Six of the 36 equally likely outcomes sum to 7 (1+6, 2+5, 3+4, 4+3, 5+2, 6+1), so the probability is 6/36 = 1/6.",
     "Five of the 36 equally likely outcomes sum to 7, so the probability is 5/36.",
     "There are six ordered pairs summing to 7; 5/36 is the probability for a sum of 6 or 8."),
    ("What is the probability of getting exactly two heads in three fair coin flips?", "",
     "There are 8 equally likely outcomes and 3 of them (HHT, HTH, THH) have exactly two heads, so the probability is 3/8.",
     "There are 8 equally likely outcomes and 2 of them (HHT, THH) have exactly two heads, so the probability is 1/4.",
     "HTH is also a two-heads outcome; the answer is 3/8."),
    ("What is 3/4 + 2/3? Give the answer as a fraction.", "",
     "With a common denominator of 12: 9/12 + 8/12 = 17/12.",
     "With a common denominator of 12: 9/12 + 8/12 = 15/12 = 5/4.",
     "9 + 8 = 17, so the sum is 17/12."),
    ("What is the mean of 12, 7, 19, 30 and 22?", "",
     "The sum is 90 and there are 5 numbers, so the mean is 90 / 5 = 18.",
     "The sum is 88 and there are 5 numbers, so the mean is 88 / 5 = 17.6.",
     "12 + 7 + 19 + 30 + 22 = 90; the mean is 18."),
    ("Convert 3 feet to centimetres. Use 1 inch = 2.54 cm.", "",
     "3 feet is 36 inches, and 36 × 2.54 = 91.44 cm.",
     "3 feet is 36 inches, and 36 × 2.54 = 94.44 cm.",
     "36 × 2.54 = 91.44."),
    ("How many bytes are in 3 KiB?", "",
     "One KiB is 1,024 bytes, so 3 KiB is 3,072 bytes.",
     "One KiB is 1,000 bytes, so 3 KiB is 3,000 bytes.",
     "A kibibyte is 1,024 bytes; 1,000 bytes is a kilobyte (kB)."),
    ("A car travels 150 km in 2.5 hours. What is its average speed?", "",
     "Average speed = 150 km / 2.5 h = 60 km/h.",
     "2.5 hours is 2 hours 50 minutes, so the average speed is 150 km / 2.83 h ≈ 53 km/h.",
     "2.5 hours is 2 h 30 min; 150 / 2.5 = 60 km/h."),
    ("You deposit $1,000 at 5% annual interest, compounded yearly. How much is in the account after 2 years?", "",
     "After year one you have $1,050, and after year two $1,050 × 1.05 = $1,102.50.",
     "Each year adds 5% of $1,000, which is $50, so after two years you have $1,100.",
     "Compounding earns interest on the first year's interest: $1,102.50; $1,100 is simple interest."),
    ("What is the approximate speed of light in a vacuum?", "",
     "Light travels at about 300,000 kilometres per second in a vacuum.",
     "Light travels at about 300,000 metres per second in a vacuum.",
     "The speed of light is 299,792,458 m/s, about 300,000 km/s; 300,000 m/s is a thousand times too slow."),
    ("Which gas do plants take in from the air for photosynthesis?", "",
     "Plants take in carbon dioxide from the air and release oxygen during photosynthesis.",
     "Plants take in oxygen from the air and release carbon dioxide during photosynthesis.",
     "Photosynthesis consumes CO2 and releases O2."),
    ("Anna is taller than Ben, and Ben is taller than Cara. Who is the shortest?", "",
     "Cara is the shortest: Anna is taller than Ben, who is taller than Cara.",
     "Ben is the shortest: Anna is taller than Ben, and Ben is compared with Cara.",
     "The order is Anna > Ben > Cara, so Cara is shortest."),
    ("If today is Wednesday, what day of the week will it be 10 days from now?", "",
     "10 days is one week plus 3 days, and 3 days after Wednesday is Saturday.",
     "10 days is one week plus 3 days, and 3 days after Wednesday is Friday.",
     "Thursday, Friday, Saturday: Wednesday + 3 days is Saturday."),
    ("What is the smaller angle between the hour and minute hands of a clock at 3:30?", "",
     "The minute hand is at 180°, and the hour hand is halfway between 3 and 4, at 105°, so the angle is 75°.",
     "The minute hand is at 180°, and the hour hand is at 3, which is 90°, so the angle is 90°.",
     "At 3:30 the hour hand has moved 15° past the 3, so the angle is 75°."),
    ("What is the next number in the sequence 2, 6, 12, 20, 30, ...?", "",
     "The differences are 4, 6, 8 and 10, so the next difference is 12 and the next number is 42.",
     "The differences are 4, 6, 8 and 10, so the next number is 30 + 10 = 40.",
     "The differences grow by 2 each time (n(n+1)), so the next term is 42."),
    ("Write 1994 in Roman numerals.", "",
     "1994 is MCMXCIV: M (1000) + CM (900) + XC (90) + IV (4).",
     "1994 is MCMXCVI: M (1000) + CM (900) + XC (90) + IV (4).",
     "MCMXCVI ends in VI, which is 1996; 1994 is MCMXCIV."),
    ("Convert the decimal number 45 to binary.", "",
     "45 = 32 + 8 + 4 + 1, so in binary it is 101101.",
     "45 = 32 + 8 + 2 + 1, so in binary it is 101011.",
     "32 + 8 + 2 + 1 = 43; 45 is 101101."),
    ("What is the hexadecimal number 0xFF in decimal?", "",
     "0xFF is 15 × 16 + 15 = 255.",
     "0xFF is 16 × 16 = 256.",
     "F = 15, so 0xFF = 15·16 + 15 = 255."),
    ("A table t has a column x with the values 1, NULL and 3. What does this SQL query return?", "SELECT COUNT(x) FROM t;",
     "It returns 2, because COUNT(x) skips NULL values.",
     "It returns 3, because COUNT(x) counts every row in the table.",
     "COUNT(column) ignores NULLs; COUNT(*) would return 3."),
    ("What does this Python code print?", 'print("a,b,,c".split(","))',
     "It prints ['a', 'b', '', 'c']: the two adjacent commas produce an empty string.",
     "It prints ['a', 'b', 'c']: split ignores the empty field between the two commas.",
     "str.split with an explicit separator keeps empty fields."),
    ("What does this Python 3 code print?", "print(round(2.5))",
     "It prints 2: Python 3 rounds halves to the nearest even number.",
     "It prints 3: Python 3 rounds halves up.",
     "Python 3's round uses banker's rounding: round(2.5) == 2."),
    ("What is the plural of the word 'criterion'?", "",
     "The plural of 'criterion' is 'criteria'.",
     "The plural of 'criterion' is 'criterions'.",
     "The standard plural is 'criteria'."),
    ("Compute 348 + 579.", "",
     "348 + 579 = 927.",
     "348 + 579 = 917.",
     "8 + 9 = 17 carries 1 into the tens column: 927."),
    ("What is the greatest common divisor of 84 and 36?", "",
     "84 = 2² × 3 × 7 and 36 = 2² × 3², so the GCD is 2² × 3 = 12.",
     "84 = 2² × 3 × 7 and 36 = 2² × 3², so the GCD is 2 × 3 = 6.",
     "Both share 2² and 3, so the GCD is 12."),
    ("What is the capital city of Australia?", "",
     "The capital of Australia is Canberra.",
     "The capital of Australia is Sydney.",
     "Canberra is the capital; Sydney is the largest city."),
    ("What is the SI unit of force?", "",
     "The SI unit of force is the newton (N), equal to one kg·m/s².",
     "The SI unit of force is the joule (J), equal to one kg·m/s².",
     "The joule is the unit of energy; force is measured in newtons."),
    ("In which year did humans first land on the Moon?", "",
     "Humans first landed on the Moon in 1969, during the Apollo 11 mission.",
     "Humans first landed on the Moon in 1968, during the Apollo 11 mission.",
     "Apollo 11 landed in July 1969."),
]

# (instruction, input, following, violating, constraint, note)
# Constraint types are checked by tests/test_judge_pairs_data.py.
INSTRUCTION_FOLLOWING = [
    ("Explain what a rainbow is in two sentences, using only lowercase letters.", "",
     "a rainbow is an arc of colours that appears when sunlight is refracted, reflected and dispersed inside raindrops. "
     "you usually see one with the sun behind you and rain in front of you.",
     "A rainbow is an arc of colours that appears when sunlight is refracted, reflected and dispersed inside raindrops. "
     "You usually see one with the sun behind you and rain in front of you.",
     {"type": "lowercase"}, "Asked for only lowercase letters; the other response uses capitals."),
    ("Write a two-sentence welcome message for new members of a hiking club. Use only lowercase letters.", "",
     "welcome to the trailblazers hiking club! we meet every saturday morning at the north car park, so bring water and sturdy boots.",
     "Welcome to the Trailblazers Hiking Club! We meet every Saturday morning at the north car park, so bring water and sturdy boots.",
     {"type": "lowercase"}, "Asked for only lowercase letters; the other response capitalises words."),
    ("Write the text for a wet-floor warning sign, in all capital letters.", "",
     "CAUTION: WET FLOOR. PLEASE WALK CAREFULLY.",
     "Caution: wet floor. Please walk carefully.",
     {"type": "uppercase"}, "Asked for all capital letters; the other response is in sentence case."),
    ("Give me a motivational slogan for a school sports day, written entirely in capital letters.", "",
     "RUN HARD, PLAY FAIR, CHEER LOUD!",
     "Run hard, play fair, cheer loud!",
     {"type": "uppercase"}, "Asked for all capitals; the other response uses lowercase letters."),
    ("In under 20 words, explain what a firewall does.", "",
     "A firewall filters network traffic, allowing or blocking connections according to a set of security rules.",
     "A firewall is a security system that monitors incoming and outgoing network traffic and decides whether to allow "
     "or block specific connections based on a defined set of security rules.",
     {"type": "max_words", "n": 19}, "Asked for under 20 words; the other response has 30."),
    ("Summarise the plot of Little Red Riding Hood in at most 10 words.", "",
     "Girl visits grandmother; wolf deceives her; woodsman rescues them.",
     "A girl walks through the woods to visit her grandmother, but a wolf gets there first, "
     "disguises himself, and is finally defeated by a passing woodsman.",
     {"type": "max_words", "n": 10}, "Asked for at most 10 words; the other summary is far longer."),
    ("Describe the taste of a lemon in fewer than 15 words.", "",
     "Sharp, sour and bright, with a slightly bitter note from the peel.",
     "A lemon tastes intensely sour and sharp, with a bright, tangy freshness and a slightly bitter edge that comes from the peel and pith.",
     {"type": "max_words", "n": 14}, "Asked for fewer than 15 words; the other response has 24."),
    ("Answer in no more than 5 words: why do leaves change colour in autumn?", "",
     "Chlorophyll breaks down, revealing pigments.",
     "Because chlorophyll breaks down in autumn, revealing the yellow and orange pigments underneath.",
     {"type": "max_words", "n": 5}, "Asked for at most 5 words; the other response has 13."),
    ("Reply with a single word: what colour do you get by mixing blue and yellow paint?", "",
     "Green.",
     "You get green.",
     {"type": "max_words", "n": 1}, "Asked for a single word; the other reply has three."),
    ("Describe your ideal weekend in at least 40 words.", "",
     "My ideal weekend starts with a slow breakfast and a long walk by the river on Saturday morning. In the afternoon "
     "I would visit a small museum or bookshop, then cook dinner with friends. Sunday would be for reading, a short bike ride, "
     "and an early night.",
     "A slow breakfast, a walk by the river, a small museum, dinner with friends, then reading and a short bike ride on Sunday.",
     {"type": "min_words", "n": 40}, "Asked for at least 40 words; the other response has 23."),
    ("Give exactly 3 bullet points on the benefits of regular exercise.", "",
     "- It strengthens the heart and lowers blood pressure.\n- It improves mood and reduces stress.\n- It helps maintain a healthy weight.",
     "- It strengthens the heart and lowers blood pressure.\n- It improves mood and reduces stress.\n- It helps maintain a healthy weight.\n"
     "- It improves sleep quality.",
     {"type": "bullet_count", "n": 3}, "Asked for exactly 3 bullet points; the other response has 4."),
    ("Using exactly three bullet points, list what to pack for a day at the beach.", "",
     "- Sunscreen and a hat\n- A towel and a change of clothes\n- Plenty of water and snacks",
     "Pack sunscreen and a hat, a towel and a change of clothes, and plenty of water and snacks.",
     {"type": "bullet_count", "n": 3}, "Asked for three bullet points; the other response is a single sentence."),
    ("Give two bullet points summarising the advantages of remote work.", "",
     "- No commute, which saves time and money.\n- More flexibility to organise the working day.",
     "- No commute, which saves time and money.\n- More flexibility to organise the working day.\n- Fewer office interruptions.",
     {"type": "bullet_count", "n": 2}, "Asked for two bullet points; the other response gives three."),
    ("In exactly four bullet points, name things to check before a long car trip.", "",
     "- Tyre pressure and tread\n- Oil and coolant levels\n- Lights and indicators\n- Windscreen washer fluid",
     "- Tyre pressure and tread\n- Oil and coolant levels\n- Lights and indicators",
     {"type": "bullet_count", "n": 4}, "Asked for exactly four bullet points; the other response has three."),
    ("Give a numbered list of exactly 3 steps for making a cup of tea.", "",
     "1. Boil fresh water.\n2. Pour it over a tea bag in a mug and steep for three to five minutes.\n3. Remove the bag and add milk or sugar to taste.",
     "1. Boil fresh water.\n2. Put a tea bag in a mug.\n3. Pour the water over the bag.\n4. Steep for three to five minutes.\n"
     "5. Remove the bag and add milk or sugar to taste.",
     {"type": "numbered_count", "n": 3}, "Asked for exactly 3 numbered steps; the other response has 5."),
    ("Explain how to restart a home Wi-Fi router as a numbered list of 4 steps.", "",
     "1. Unplug the router from the power socket.\n2. Wait about 30 seconds.\n3. Plug it back in.\n"
     "4. Wait until the lights are steady, then reconnect your devices.",
     "Unplug the router from the power socket and wait about 30 seconds. Then plug it back in, wait until the lights are "
     "steady, and reconnect your devices.",
     {"type": "numbered_count", "n": 4}, "Asked for a numbered list of 4 steps; the other response is a paragraph."),
    ('Respond only with a JSON object with the keys "country" and "capital", for the country whose capital is Lisbon.', "",
     '{"country": "Portugal", "capital": "Lisbon"}',
     "The country is Portugal, and its capital is Lisbon.",
     {"type": "json_object", "keys": ["country", "capital"]}, "Asked for a JSON object; the other response is plain prose."),
    ('Classify the sentiment of this review. Return a JSON object whose only key is "sentiment", with the value '
     '"positive", "negative" or "neutral".',
     "The battery lasts all day and the screen is gorgeous.",
     '{"sentiment": "positive"}',
     "Sentiment: positive",
     {"type": "json_object", "keys": ["sentiment"]}, "Asked for a JSON object; the other response is not JSON."),
    ('Give the title and release year of the first Harry Potter film as JSON with the keys "title" and "year".', "",
     '{"title": "Harry Potter and the Philosopher\'s Stone", "year": 2001}',
     '{"film": "Harry Potter and the Philosopher\'s Stone", "released": 2001}',
     {"type": "json_object", "keys": ["title", "year"]}, "The required keys are title and year; the other JSON uses different keys."),
    ('Extract the name and age from the text as a JSON object with the keys "name" and "age"; the age must be a number.',
     "Maria Okafor, 34, works as a nurse in Leeds.",
     '{"name": "Maria Okafor", "age": 34}',
     '{"name": "Maria Okafor", "age": "34"}',
     {"type": "json_object", "keys": ["name", "age"], "types": {"name": "string", "age": "number"}},
     "The age must be a JSON number; the other response gives it as a string."),
    ("Return a JSON array of the three traditional primary colours of paint, and nothing else.", "",
     '["red", "yellow", "blue"]',
     "Red, yellow and blue.",
     {"type": "json_array", "n": 3}, "Asked for a JSON array; the other response is a sentence."),
    ('Is the Great Wall of China visible from the Moon with the naked eye? Start your answer with "Yes" or "No".', "",
     "No. From the Moon, about 384,000 km away, the wall is far too narrow to be seen without optical aid.",
     "From the Moon, about 384,000 km away, the wall is far too narrow to be seen without optical aid, so the answer is no.",
     {"type": "starts_with", "prefixes": ["Yes", "No"]}, "Asked to start with Yes or No; the other response puts 'no' at the end."),
    ("Can penguins fly? Begin your answer with Yes or No.", "",
     "No. Penguins cannot fly; their wings have evolved into flippers for swimming.",
     "Penguins cannot fly; their wings have evolved into flippers for swimming.",
     {"type": "starts_with", "prefixes": ["Yes", "No"]}, "Asked to begin with Yes or No; the other response does not."),
    ("Is 91 a prime number? Start with Yes or No, then give one sentence of explanation.", "",
     "No. 91 equals 7 × 13, so it has divisors other than 1 and itself.",
     "91 is not prime, because it equals 7 × 13 and so has divisors other than 1 and itself.",
     {"type": "starts_with", "prefixes": ["Yes", "No"]}, "Asked to start with Yes or No; the other response does not."),
    ('Write a two-sentence email asking Ms Patel to move our meeting to Thursday. Begin with "Dear Ms Patel,".', "",
     "Dear Ms Patel,\nCould we move our meeting to Thursday at the same time? Please let me know if that works for you.",
     "Hi Ms Patel,\nCould we move our meeting to Thursday at the same time? Please let me know if that works for you.",
     {"type": "starts_with", "prefixes": ["Dear Ms Patel,"]}, "The email must begin 'Dear Ms Patel,'; the other begins 'Hi Ms Patel,'."),
    ('Write a three-sentence children\'s story about a brave snail. It must start with "Once upon a time".', "",
     "Once upon a time, a small snail named Pip wanted to see the top of the garden wall. The climb took all day, and the "
     "wind nearly blew him off twice. At sunset he reached the top and saw the whole village glowing below him.",
     "There was once a small snail named Pip who wanted to see the top of the garden wall. The climb took all day, and the "
     "wind nearly blew him off twice. At sunset he reached the top and saw the whole village glowing below him.",
     {"type": "starts_with", "prefixes": ["Once upon a time"]}, "The story must start with 'Once upon a time'; the other does not."),
    ('Explain how to hard-boil an egg in two sentences, and end your reply with the exact question '
     '"Is there anything else I can help with?"', "",
     "Place the egg in boiling water and cook it for about ten minutes. Then cool it in cold water before peeling. "
     "Is there anything else I can help with?",
     "Place the egg in boiling water and cook it for about ten minutes. Then cool it in cold water before peeling. "
     "Let me know if you need anything else.",
     {"type": "ends_with", "suffix": "Is there anything else I can help with?"},
     "The reply must end with the given question; the other ends with a different sentence."),
    ('Write a one-sentence apology for a late delivery that ends with the words "Thank you for your patience."', "",
     "We are sorry that your order arrived two days late, and we have refunded the delivery fee. Thank you for your patience.",
     "We are sorry that your order arrived two days late, and we have refunded the delivery fee; we appreciate your patience.",
     {"type": "ends_with", "suffix": "Thank you for your patience."}, "The apology must end with the given words; the other does not."),
    ("Write an opening line for a podcast episode about space. The line must end with a question.", "",
     "Welcome back to Night Sky Notes, where tonight we ask: what would it take to build a home on Mars?",
     "Welcome back to Night Sky Notes, where tonight we explore what it would take to build a home on Mars.",
     {"type": "ends_with", "suffix": "?"}, "The line must end with a question; the other ends with a statement."),
    ('Write a one-sentence slogan for a sunscreen brand that includes the word "ocean".', "",
     "Protect your skin from the ocean breeze to the afternoon sun.",
     "Protect your skin from the beach breeze to the afternoon sun.",
     {"type": "include_words", "words": ["ocean"]}, "The slogan must contain 'ocean'; the other does not."),
    ("In two sentences, update your manager on a website project. Mention both the budget and the deadline.", "",
     "The new checkout page is finished and the project is still within its budget. We expect to meet the 30 June deadline.",
     "The new checkout page is finished and spending is on track. We expect to meet the 30 June deadline.",
     {"type": "include_words", "words": ["budget", "deadline"]}, "Both 'budget' and 'deadline' are required; the other omits 'budget'."),
    ('Explain why the sky is blue in one sentence that uses the word "because".', "",
     "The sky looks blue because air molecules scatter short blue wavelengths of sunlight much more than longer red ones.",
     "Air molecules scatter short blue wavelengths of sunlight much more than longer red ones, so the sky looks blue.",
     {"type": "include_words", "words": ["because"]}, "The sentence must use 'because'; the other uses 'so' instead."),
    ('Describe a thunderstorm in two sentences without using the word "very".', "",
     "Dark clouds rolled in and the air turned heavy and still. Then lightning split the sky and thunder shook the windows.",
     "Dark clouds rolled in and the air turned very heavy and still. Then lightning split the sky and thunder shook the windows.",
     {"type": "exclude_words", "words": ["very"]}, "The word 'very' was forbidden; the other response uses it."),
    ("Give one sentence of feedback on this essay opening without using the words 'good' or 'bad'.",
     "Cities are places. Many people live in them, and they have buildings.",
     "The opening is too general to hook a reader, so start with a specific image or claim about city life instead.",
     "The opening is bad at hooking a reader because it is too general, so start with a specific image or claim about city life instead.",
     {"type": "exclude_words", "words": ["good", "bad"]}, "'good' and 'bad' were forbidden; the other response uses 'bad'."),
    ("Write a short social media post about coffee. Do not use any hashtags.", "",
     "Nothing beats the first sip of coffee on a cold morning.",
     "Nothing beats the first sip of coffee on a cold morning. #coffee #morning",
     {"type": "no_char", "char": "#"}, "Hashtags were forbidden; the other post ends with two."),
    ("Name five European capitals in alphabetical order, separated by commas.", "",
     "Berlin, Lisbon, Madrid, Paris, Rome",
     "Paris, Berlin, Rome, Madrid, Lisbon",
     {"type": "alphabetical"}, "The capitals must be in alphabetical order; the other list is not."),
    ("Name four planets of the solar system in alphabetical order, one per line.", "",
     "Earth\nJupiter\nMars\nVenus",
     "Mars\nEarth\nVenus\nJupiter",
     {"type": "alphabetical"}, "The planets must be in alphabetical order; the other list is not."),
    ("Give five programming languages as a bulleted list, sorted alphabetically.", "",
     "- C\n- Go\n- Java\n- Python\n- Rust",
     "- Python\n- Java\n- C\n- Rust\n- Go",
     {"type": "alphabetical"}, "The list must be sorted alphabetically; the other is not."),
    ("Explain what a black hole is in exactly two sentences.", "",
     "A black hole is a region of space where gravity is so strong that nothing, not even light, can escape. "
     "Most form when a very massive star collapses at the end of its life.",
     "A black hole is a region of space where gravity is so strong that nothing can escape. Not even light gets out. "
     "Most form when a very massive star collapses at the end of its life.",
     {"type": "sentence_count", "n": 2}, "Asked for exactly two sentences; the other response has three."),
    ("Describe the Eiffel Tower in one sentence.", "",
     "The Eiffel Tower is a wrought-iron lattice tower in Paris, completed in 1889 for the World's Fair.",
     "The Eiffel Tower is a wrought-iron lattice tower in Paris. It was completed in 1889 for the World's Fair.",
     {"type": "sentence_count", "n": 1}, "Asked for one sentence; the other response has two."),
    ("In exactly three sentences, describe how bees make honey.", "",
     "Bees collect nectar from flowers and store it in a special stomach. Back at the hive they pass it to other bees, whose "
     "enzymes break the sugars down. They deposit it in wax cells and fan it with their wings until it thickens into honey.",
     "Bees collect nectar from flowers and store it in a special stomach. Back at the hive they pass it to other bees, whose "
     "enzymes break the sugars down and who deposit it in wax cells, fanning it with their wings until it thickens into honey.",
     {"type": "sentence_count", "n": 3}, "Asked for exactly three sentences; the other response has two."),
    ("Describe your favourite season in two sentences without using any commas.", "",
     "Autumn is my favourite season because the air turns crisp and the trees glow red and gold. I love long walks through "
     "crunchy leaves followed by a warm drink at home.",
     "Autumn is my favourite season because the air turns crisp, and the trees glow red and gold. I love long walks through "
     "crunchy leaves, followed by a warm drink at home.",
     {"type": "no_char", "char": ","}, "Commas were forbidden; the other response uses two."),
    ("Rewrite these directions as full sentences without using any commas.",
     "exit station, turn left, walk 200 m, library on right after the bakery",
     "Exit the station and turn left. Walk about 200 metres and the library is on your right just after the bakery.",
     "Exit the station and turn left. Walk about 200 metres, and the library is on your right, just after the bakery.",
     {"type": "no_char", "char": ","}, "Commas were forbidden; the other response uses them."),
    ("Write two short paragraphs separated by a blank line: the first on what a password manager is, the second on why to use one.", "",
     "A password manager is an app that stores your passwords in an encrypted vault protected by one master password.\n\n"
     "Using one lets you have a long, unique password for every site without having to remember them all.",
     "A password manager is an app that stores your passwords in an encrypted vault protected by one master password. "
     "Using one lets you have a long, unique password for every site without having to remember them all.",
     {"type": "paragraph_count", "n": 2}, "Asked for two paragraphs separated by a blank line; the other is one paragraph."),
    ("Write a product description for a reusable water bottle in exactly three paragraphs separated by blank lines.", "",
     "Meet the TrailFlask, a 750 ml stainless-steel bottle built for daily use.\n\n"
     "Double-wall insulation keeps drinks cold for 24 hours or hot for 12.\n\n"
     "It is leak-proof, dishwasher-safe and light enough for any bag.",
     "Meet the TrailFlask, a 750 ml stainless-steel bottle built for daily use.\n\n"
     "Double-wall insulation keeps drinks cold for 24 hours or hot for 12. It is leak-proof, dishwasher-safe and light enough for any bag.",
     {"type": "paragraph_count", "n": 3}, "Asked for three paragraphs; the other response has two."),
    ("Suggest a name for a bakery and wrap your entire response in double quotation marks.", "",
     '"The Rolling Pin"',
     "The Rolling Pin",
     {"type": "wrapped_in", "char": '"'}, "The response must be wrapped in double quotes; the other is not."),
    ("Write a four-line poem about rain. Give it a title wrapped in double angular brackets, such as <<title>>.", "",
     "<<Rain on the Window>>\nSoft taps upon the glass at night,\nA silver hush, a steady beat,\nThe street lamps blur to golden light,\n"
     "And puddles gather at my feet.",
     "Rain on the Window\nSoft taps upon the glass at night,\nA silver hush, a steady beat,\nThe street lamps blur to golden light,\n"
     "And puddles gather at my feet.",
     {"type": "regex_search", "pattern": r"^<<[^<>\n]+>>"}, "The title must be in double angular brackets; the other title is bare."),
    ("Write a short note inviting your neighbour to a barbecue on Saturday, and end with a postscript that starts with \"P.S.\"", "",
     "Hi Sam,\nWe're having a barbecue in our garden on Saturday from 4 pm and would love you to join us.\n"
     "P.S. Feel free to bring a friend.",
     "Hi Sam,\nWe're having a barbecue in our garden on Saturday from 4 pm and would love you to join us. "
     "Feel free to bring a friend.",
     {"type": "regex_search", "pattern": r"(?m)^P\.S\. "}, "A postscript starting 'P.S.' was required; the other note has none."),
    ("How many legs does a spider have? Reply with the number only.", "",
     "8",
     "A spider has 8 legs.",
     {"type": "regex_fullmatch", "pattern": r"\d+"}, "Asked for the number only; the other reply is a sentence."),
    ("What is 12 squared? Output only the number, with no words.", "",
     "144",
     "12 squared is 144.",
     {"type": "regex_fullmatch", "pattern": r"\d+"}, "Asked for only the number; the other reply adds words."),
    ("What is the capital of Canada? Reply in the format 'Answer: <city>'.", "",
     "Answer: Ottawa",
     "The capital of Canada is Ottawa.",
     {"type": "regex_fullmatch", "pattern": r"Answer: [A-Z][A-Za-z ]*"}, "The reply must use the 'Answer: <city>' format; the other does not."),
    ("Write a Python function that returns the square of a number. Reply with only a Python code block and no explanation.", "",
     "```python\ndef square(x):\n    return x * x\n```",
     "Here is a function that squares a number:\n\n```python\ndef square(x):\n    return x * x\n```\n\nIt multiplies x by itself.",
     {"type": "regex_fullmatch", "pattern": r"```python\n(?:(?!```)[\s\S])*\n```"},
     "Asked for only a code block; the other reply adds explanation around it."),
    ("Write one sentence confirming a dentist appointment on 14 March 2025 at 10:00. Write the date in YYYY-MM-DD format.", "",
     "Your dentist appointment is confirmed for 2025-03-14 at 10:00.",
     "Your dentist appointment is confirmed for 14/03/2025 at 10:00.",
     {"type": "regex_search", "pattern": r"\b\d{4}-\d{2}-\d{2}\b"}, "The date must be written YYYY-MM-DD; the other uses DD/MM/YYYY."),
    ('Write a two-sentence description of the sea that uses the word "blue" at least three times.', "",
     "The sea stretched out blue and calm under a blue sky. Near the rocks the water turned a deep, inky blue.",
     "The sea stretched out blue and calm under a clear sky. Near the rocks the water turned a deep, inky blue.",
     {"type": "word_min_count", "word": "blue", "n": 3}, "'blue' must appear at least three times; the other response uses it twice."),
    ("Output a CSV with the header name,colour and one row for each of three fruits and their usual colour.", "",
     "name,colour\nbanana,yellow\nlime,green\nstrawberry,red",
     "| name | colour |\n|---|---|\n| banana | yellow |\n| lime | green |\n| strawberry | red |",
     {"type": "csv", "header": ["name", "colour"], "rows": 3}, "Asked for CSV; the other response is a Markdown table."),
    ("Write a short job-offer email template with at least three placeholders in square brackets, such as [name].", "",
     "Dear [name],\nWe are pleased to offer you the position of [job title], starting on [start date]. "
     "Please reply by [deadline] to accept.",
     "Dear [name],\nWe are pleased to offer you the position we discussed, starting on the agreed date. "
     "Please reply within a week to accept.",
     {"type": "regex_min_count", "pattern": r"\[[^\[\]]+\]", "n": 3}, "At least three placeholders were required; the other has one."),
    ("Write a tweet announcing that a library will open late on Monday. Keep it to at most 100 characters.", "",
     "Heads up: the library opens at 11 am this Monday instead of 9 am. See you then!",
     "Heads up, readers: because of staff training, the central library will open at 11 am this Monday instead of "
     "the usual 9 am. See you then!",
     {"type": "max_chars", "n": 100}, "The tweet must be at most 100 characters; the other is over 130."),
    ("Give a pro and a con of electric cars, separated by a line containing only ***.", "",
     "Pro: they produce no tailpipe emissions.\n***\nCon: charging takes longer than filling a tank.",
     "Pro: they produce no tailpipe emissions.\nCon: charging takes longer than filling a tank.",
     {"type": "separated_parts", "sep": "***", "n": 2}, "The two parts must be separated by a *** line; the other has no separator."),
]

# (instruction, input, concise, padded, note); the padded answer adds only filler, no content.
VERBOSITY_TIE = [
    ("What is the capital of Japan?", "",
     "The capital of Japan is Tokyo.",
     "Great question! You're asking about the capital city of Japan. The capital of Japan is Tokyo. "
     "I hope this helps, and feel free to ask if you have any other questions about geography!",
     "Both answer Tokyo; the longer one only adds a restated question and pleasantries."),
    ("What does the abbreviation CPU stand for?", "",
     "CPU stands for central processing unit.",
     "That's a common question for anyone learning about computers. CPU is an abbreviation, and it stands for "
     "central processing unit. I hope this clears things up for you!",
     "Same expansion; the extra text is filler."),
    ("Convert 2 kilograms to grams.", "",
     "2 kilograms is 2,000 grams.",
     "Sure, I'd be happy to help you with this unit conversion. Converting kilograms to grams is something many people "
     "need to do. 2 kilograms is 2,000 grams. Let me know if you need help with any other conversions!",
     "Same answer (2,000 g); the rest is filler."),
    ("What is photosynthesis? Answer in one sentence.", "",
     "Photosynthesis is the process by which plants use light energy to turn carbon dioxide and water into glucose and oxygen.",
     "Photosynthesis is a fascinating topic in biology. In short, photosynthesis is the process by which plants use light "
     "energy to turn carbon dioxide and water into glucose and oxygen. It's a really interesting process, and I hope this "
     "explanation helps!",
     "Identical definition; the padding adds no information."),
    ("How do I reverse a list in Python?", "",
     "Use `my_list.reverse()` to reverse it in place, or `my_list[::-1]` to get a reversed copy.",
     "Reversing a list is a very common task in Python, and there are a couple of ways to do it. "
     "Use `my_list.reverse()` to reverse it in place, or `my_list[::-1]` to get a reversed copy. "
     "Of course, the best choice depends on your specific situation. Happy coding!",
     "Same two methods; the rest is generic filler."),
    ("Who painted the Mona Lisa?", "",
     "Leonardo da Vinci painted the Mona Lisa.",
     "The Mona Lisa is one of the most famous paintings in the world, and many people wonder who created it. "
     "The answer is that Leonardo da Vinci painted the Mona Lisa. I hope that answers your question!",
     "Same answer; the padding restates the question."),
    ("What is the difference between 'affect' and 'effect'?", "",
     "'Affect' is usually a verb meaning to influence, while 'effect' is usually a noun meaning a result.",
     "This is a question that confuses many English speakers, so you're definitely not alone in asking it! "
     "'Affect' is usually a verb meaning to influence, while 'effect' is usually a noun meaning a result. "
     "Language can be tricky sometimes, but I hope this helps you remember the difference.",
     "Same distinction; the extra sentences are reassurance only."),
    ("How many hours are there in a week?", "",
     "There are 168 hours in a week (7 × 24).",
     "Let's work this out together. You want to know how many hours there are in a week. "
     "There are 168 hours in a week (7 × 24). I hope this was helpful, and good luck with whatever you're planning!",
     "Same number; the rest is filler."),
    ("Give me a synonym for 'happy'.", "",
     "Joyful.",
     "Certainly! Finding the right word can make a big difference in your writing. A good synonym for 'happy' is joyful. "
     "Feel free to reach out if you need more synonyms in the future!",
     "Same synonym; the padding adds nothing."),
    ("What is the chemical formula of table salt?", "",
     "Table salt is sodium chloride, NaCl.",
     "Great question about chemistry! Table salt is something we all use every day in the kitchen. "
     "Chemically speaking, table salt is sodium chloride, NaCl. I hope this answers your question!",
     "Same formula; the extra text is filler."),
    ("How do I check which version of Python I have from the command line?", "",
     "Run `python --version` (or `python3 --version` on some systems).",
     "Checking your Python version is a useful first step when troubleshooting. To find out which version you have, "
     "run `python --version` (or `python3 --version` on some systems). Please note that every system is set up a little "
     "differently. I hope this helps!",
     "Same command; the padding is generic."),
    ("What does HTTP status code 404 mean?", "",
     "404 means Not Found: the server could not find the requested resource.",
     "You've probably come across this error while browsing the web. HTTP status codes tell you what happened with a request. "
     "404 means Not Found: the server could not find the requested resource. I hope this explanation is useful to you!",
     "Same meaning; the rest is filler."),
    ("Translate 'thank you' into Spanish.", "",
     "Gracias.",
     "Of course! Translating everyday phrases is a great way to start learning a new language. "
     "'Thank you' in Spanish is 'gracias'. Good luck with your language learning journey!",
     "Same translation; the padding adds nothing."),
    ("What is the past tense of 'swim'?", "",
     "The past tense is 'swam', and the past participle is 'swum'.",
     "English irregular verbs can be tricky, so this is a great question to ask. "
     "The past tense is 'swam', and the past participle is 'swum'. Don't worry, these things take practice to remember!",
     "Same forms; the extra text is reassurance only."),
    ("How many players does a football (soccer) team have on the pitch?", "",
     "Eleven per team, including the goalkeeper.",
     "Football is the most popular sport in the world, so it's good to know the basics. "
     "Each team has eleven players on the pitch, including the goalkeeper. I hope you enjoy the next match you watch!",
     "Same number; the padding is filler."),
    ("What is the main ingredient in guacamole?", "",
     "Avocado.",
     "Guacamole is a delicious dip that many people enjoy. When it comes to its main ingredient, the answer is avocado. "
     "I hope this helps with your cooking, and enjoy your guacamole!",
     "Same answer; the rest is filler."),
    ("Explain what an API is in one sentence.", "",
     "An API (application programming interface) is a defined set of rules that lets one program request data or services from another.",
     "That's a great question, and one that comes up a lot in software development. To put it simply, an API "
     "(application programming interface) is a defined set of rules that lets one program request data or services from "
     "another. I hope this definition helps you understand the concept!",
     "Same definition; the padding restates and thanks."),
    ("Give the git command to create a new branch called feature-login and switch to it.", "",
     "`git switch -c feature-login`",
     "Creating branches is an essential part of working with git, and it's great that you're using them. "
     "To create a new branch called feature-login and switch to it in one step, run `git switch -c feature-login`. "
     "As always, make sure you understand what a command does before running it. Happy coding!",
     "Same command; the extra sentences are generic."),
    ("How many sides does a hexagon have?", "",
     "Six.",
     "Let me help you with this geometry question. You are asking how many sides a hexagon has. A hexagon has six sides. "
     "Geometry can be fun once you get the hang of it!",
     "Same answer (six); the rest is filler."),
    ("What is the longest river in South America?", "",
     "The Amazon.",
     "South America has many impressive rivers, which makes this an interesting question. "
     "The longest river in South America is the Amazon. I hope this information is useful for your studies!",
     "Same answer; the padding adds nothing."),
    ("Summarise this notice in one sentence.",
     "The Westfield Library will close from 3 June to 17 June for roof repairs. During this time, books can be returned "
     "at the Elm Street branch, and loans will be extended automatically.",
     "Westfield Library closes from 3 to 17 June for roof repairs; return books at the Elm Street branch, and loans will be extended automatically.",
     "Sure, here is a one-sentence summary of the notice you provided, keeping only the most important details. Westfield Library closes from 3 to 17 June for roof "
     "repairs; return books at the Elm Street branch, and loans will be extended automatically. I hope this summary captures "
     "the key points for you!",
     "Same summary; the padding only announces and closes it."),
    ("Fix the grammatical error in this sentence.", "Their going to the park tomorrow.",
     "They're going to the park tomorrow.",
     "I'd be happy to help you fix this sentence! Grammar mistakes like this one are very common, so don't worry. "
     "The corrected sentence is: They're going to the park tomorrow. Let me know if you have any other sentences to check!",
     "Same correction; the rest is filler."),
    ("What is inflation? Answer briefly.", "",
     "Inflation is the general rise in prices over time, which reduces how much a unit of money can buy.",
     "Inflation is an important economic concept that affects everyone. Simply put, inflation is the general rise in "
     "prices over time, which reduces how much a unit of money can buy. Of course, economics is a complex field, and "
     "there is always more to learn. I hope this helps!",
     "Same definition; the padding is generic."),
    ("What does the len() function do in Python?", "",
     "`len()` returns the number of items in an object, such as the characters in a string or the elements in a list.",
     "Good question! The `len()` function is one of the most commonly used built-in functions in Python. "
     "`len()` returns the number of items in an object, such as the characters in a string or the elements in a list. "
     "I hope this helps you on your Python journey!",
     "Same explanation; the rest is filler."),
    ("How do you say 'good morning' in French?", "",
     "Bonjour.",
     "What a lovely phrase to learn! French is a beautiful language, and greetings are a great place to begin. "
     "'Good morning' in French is 'bonjour'. Bonne chance with your French studies!",
     "Same translation; the padding adds nothing."),
    ("What is the freezing point of water in Celsius?", "",
     "0 °C at standard atmospheric pressure.",
     "This is a basic but important scientific fact. Water freezes at 0 °C at standard atmospheric pressure. "
     "I hope this answers your question, and let me know if you have any more science questions!",
     "Same value; the rest is filler."),
    ("Which gas makes up most of Earth's atmosphere?", "",
     "Nitrogen, at about 78% by volume.",
     "Many people assume the answer is oxygen, so it's a good question to ask. The gas that makes up most of Earth's "
     "atmosphere is nitrogen, at about 78% by volume. Isn't science fascinating? I hope this helps!",
     "Same fact and figure; the padding adds nothing."),
    ("What is a haiku?", "",
     "A haiku is a short Japanese poem of three lines with a 5-7-5 syllable pattern.",
     "Haiku are a wonderful form of poetry that many people enjoy reading and writing. "
     "A haiku is a short Japanese poem of three lines with a 5-7-5 syllable pattern. "
     "I hope this inspires you to try writing one yourself!",
     "Same definition; the rest is filler."),
    ("Write a SQL query that selects all rows from a table named orders.", "",
     "SELECT * FROM orders;",
     "Sure! Here is a SQL query that selects all rows from a table named orders:\n\nSELECT * FROM orders;\n\n"
     "This should do exactly what you asked for. Please remember to test your queries carefully before using them. "
     "Let me know if you need any other help with SQL!",
     "Same query; the surrounding text is filler."),
    ("What is the plural of 'mouse' when it means the animal?", "",
     "Mice.",
     "English plurals can be unpredictable, so this is a reasonable thing to ask. "
     "When 'mouse' refers to the animal, its plural is 'mice'. I hope this helps with your writing!",
     "Same plural; the padding adds nothing."),
    ("How do I make text bold in Markdown?", "",
     "Wrap it in double asterisks: **bold text**.",
     "Markdown is a handy way to format text, and making text bold is one of the most common things people want to do. "
     "To make text bold, wrap it in double asterisks: **bold text**. I hope this helps you format your documents!",
     "Same syntax; the rest is filler."),
    ("In which year did World War II end?", "",
     "World War II ended in 1945.",
     "World War II was one of the most significant events of the twentieth century, and it's important to remember "
     "its history. To answer your question, World War II ended in 1945. Thank you for your interest in history!",
     "Same year; the padding adds nothing."),
    ("Give a one-line definition of 'algorithm'.", "",
     "An algorithm is a finite sequence of well-defined steps for solving a problem or performing a task.",
     "Algorithms are at the heart of computer science, so this is a great term to understand. "
     "An algorithm is a finite sequence of well-defined steps for solving a problem or performing a task. "
     "I hope you found this definition clear and easy to follow!",
     "Same definition; the rest is filler."),
    ("What does DNA stand for?", "",
     "Deoxyribonucleic acid.",
     "DNA is a term you hear a lot in biology class and in the news. DNA stands for deoxyribonucleic acid. "
     "It's quite a mouthful, isn't it? I hope this helps!",
     "Same expansion; the padding adds nothing."),
    ("What is the opposite of 'generous'?", "",
     "Stingy.",
     "Finding antonyms is a great way to expand your vocabulary. The opposite of 'generous' is 'stingy'. "
     "I hope this is useful, and happy writing!",
     "Same antonym; the rest is filler."),
    ("Botanically speaking, is a tomato a fruit or a vegetable?", "",
     "Botanically, a tomato is a fruit, because it develops from the flower and contains the seeds.",
     "This is a classic question that sparks a lot of friendly debate! Botanically, a tomato is a fruit, because it "
     "develops from the flower and contains the seeds. Of course, in the kitchen people often treat it differently, "
     "but I hope this settles the question for you!",
     "Same answer and reason; the padding adds no facts."),
    ("How many centimetres are in a metre?", "",
     "There are 100 centimetres in a metre.",
     "Good question! The metric system is designed to be simple to use. There are 100 centimetres in a metre. "
     "I hope this helps with your measurements!",
     "Same number; the rest is filler."),
    ("What is the largest planet in our solar system?", "",
     "Jupiter.",
     "Our solar system contains a number of fascinating planets, each with its own features. "
     "The largest planet in our solar system is Jupiter. I hope you enjoy learning more about space!",
     "Same answer; the padding adds nothing."),
    ("How can I undo the last git commit but keep its changes?", "",
     "Run `git reset --soft HEAD~1`: it removes the last commit and keeps its changes staged.",
     "Don't worry, this happens to everyone who uses git! Mistakes in commits are very common and easy to fix. "
     "Run `git reset --soft HEAD~1`: it removes the last commit and keeps its changes staged. "
     "As always, be careful when rewriting history. I hope this helps!",
     "Same command; the rest is reassurance and a generic caveat."),
    ("Rewrite this sentence in the passive voice.", "The chef cooked the meal.",
     "The meal was cooked by the chef.",
     "Of course! Converting sentences to the passive voice is a useful skill in writing. "
     "Here is the sentence rewritten in the passive voice: The meal was cooked by the chef. "
     "I hope this example helps you practise!",
     "Same rewrite; the padding adds nothing."),
    ("What is the boiling point of water in Fahrenheit at sea level?", "",
     "212 °F.",
     "Thanks for your question about the boiling point of water. At sea level, the boiling point of water in Fahrenheit "
     "is 212 °F. I hope this information is helpful to you!",
     "Same value; the rest restates the question."),
    ("What is a prime number?", "",
     "A prime number is a whole number greater than 1 whose only divisors are 1 and itself.",
     "Prime numbers are a fundamental concept in mathematics, so it's great that you're curious about them. "
     "A prime number is a whole number greater than 1 whose only divisors are 1 and itself. "
     "I hope this explanation makes things clearer!",
     "Same definition; the padding adds nothing."),
    ("Classify the sentiment of this review as positive or negative.", "The food was cold and the service was slow.",
     "Negative.",
     "I've carefully read the review you provided and analysed its tone. After considering the content, "
     "the sentiment of this review is negative. Let me know if you'd like me to classify any other reviews!",
     "Same label; the rest is filler."),
    ("How do I convert a string to an integer in JavaScript?", "",
     "Use `parseInt(str, 10)` or `Number(str)`.",
     "Converting between types is something every JavaScript developer needs to do at some point. "
     "To convert a string to an integer, use `parseInt(str, 10)` or `Number(str)`. "
     "There are always edge cases to consider in programming, of course. Happy coding!",
     "Same methods; the padding is generic."),
    ("Who developed the general theory of relativity?", "",
     "Albert Einstein, who published it in 1915.",
     "The theory of relativity is one of the most important ideas in physics, so this is a great question. "
     "The general theory of relativity was developed by Albert Einstein, who published it in 1915. "
     "I hope you find physics as fascinating as I do!",
     "Same answer and year; the padding adds nothing."),
    ("How can I keep cut flowers fresh for longer?", "",
     "Trim the stems at an angle and change the water every two days.",
     "Everyone loves having fresh flowers at home, so it's natural to want them to last. "
     "To keep cut flowers fresh for longer, trim the stems at an angle and change the water every two days. "
     "Of course, results can vary depending on the type of flower. I hope your flowers stay beautiful!",
     "Same advice; the rest is a generic caveat and pleasantries."),
    ("In computing, what is RAM short for?", "",
     "Random-access memory.",
     "RAM is a key component in every computer, and understanding it is useful. "
     "RAM is short for random-access memory. I hope this helps you understand your computer a little better!",
     "Same expansion; the padding adds nothing."),
    ("What is the formula for the area of a rectangle?", "",
     "Area = length × width.",
     "Calculating area is a useful skill in everyday life, from decorating to gardening. "
     "The formula for the area of a rectangle is: area = length × width. "
     "I hope this helps with your project, and good luck!",
     "Same formula; the rest is filler."),
    ("Name the three states of matter usually taught in school.", "",
     "Solid, liquid and gas.",
     "This is a great science question! States of matter are one of the first topics students learn about. "
     "The three states of matter usually taught in school are solid, liquid and gas. Keep up the curiosity!",
     "Same three states; the padding adds nothing."),
    ("What is a quarter of 80?", "",
     "20.",
     "Fractions come up all the time, so it's handy to be able to work them out. "
     "You asked for a quarter of 80, and a quarter of 80 is 20. I hope this helps with your calculation!",
     "Same answer; the rest restates the question."),
    ("Write a regular expression that matches a string of exactly five digits.", "",
     r"`^\d{5}$`",
     "Regular expressions can look intimidating, but they are very powerful once you get used to them. "
     r"A regular expression that matches a string of exactly five digits is `^\d{5}$`. "
     "Remember that regex syntax can vary slightly between languages. I hope this helps!",
     "Same pattern; the padding is generic."),
    ("What is the tallest mountain on Earth, measured above sea level?", "",
     "Mount Everest, at about 8,849 m.",
     "Mountains are some of the most awe-inspiring natural features on our planet. "
     "The tallest mountain on Earth, measured above sea level, is Mount Everest, at about 8,849 m. "
     "I hope this satisfies your curiosity!",
     "Same answer and height; the rest is filler."),
    ("Which language is mainly spoken in Brazil?", "",
     "Portuguese.",
     "Brazil is the largest country in South America and has a rich culture. "
     "The language mainly spoken in Brazil is Portuguese. I hope this is helpful for your travels or studies!",
     "Same answer; the padding adds nothing."),
    ("What is the Unix command to list the files in a directory?", "",
     "`ls` (add `-l` for details such as size and permissions).",
     "Working in the terminal can feel daunting at first, but you'll get used to it quickly. "
     "The Unix command to list the files in a directory is `ls` (add `-l` for details such as size and permissions). "
     "I hope this helps you get started with the command line!",
     "Same command; the padding adds nothing."),
    ("How many days are there in a leap year?", "",
     "366.",
     "Leap years are an interesting feature of our calendar. To answer your question, a leap year has 366 days. "
     "I hope this helps, and have a great day!",
     "Same number; the rest is filler."),
    ("Give one word that rhymes with 'light'.", "",
     "Night.",
     "Rhymes are a lot of fun to find, especially for poems and songs! "
     "One word that rhymes with 'light' is 'night'. I hope this helps with your writing, and good luck!",
     "Same rhyme; the padding adds nothing."),
]


def _balanced_flags(n: int, family: str) -> list[bool]:
    """Exactly ⌈n/2⌉ True in a seeded order: True = the correct/following/padded response goes in slot A."""
    flags = [True] * ((n + 1) // 2) + [False] * (n // 2)
    order = rng(SEED, "judge_pairs", family).permutation(n)
    return [flags[i] for i in order]


def build_rows() -> list[dict]:
    rows: list[dict] = []
    flags = _balanced_flags(len(CORRECTNESS), "correctness")
    for (ins, inp, good, bad, note), good_in_a in zip(CORRECTNESS, flags):
        a, b = (good, bad) if good_in_a else (bad, good)
        rows.append({"family": "correctness", "instruction": ins, "input": inp, "response_a": a, "response_b": b,
                     "label": "A" if good_in_a else "B", "note": note})
    flags = _balanced_flags(len(INSTRUCTION_FOLLOWING), "instruction_following")
    for (ins, inp, good, bad, constraint, note), good_in_a in zip(INSTRUCTION_FOLLOWING, flags):
        a, b = (good, bad) if good_in_a else (bad, good)
        rows.append({"family": "instruction_following", "instruction": ins, "input": inp, "response_a": a, "response_b": b,
                     "label": "A" if good_in_a else "B", "note": note, "constraint": constraint})
    flags = _balanced_flags(len(VERBOSITY_TIE), "verbosity_tie")
    for (ins, inp, concise, padded, note), padded_in_a in zip(VERBOSITY_TIE, flags):
        a, b = (padded, concise) if padded_in_a else (concise, padded)
        rows.append({"family": "verbosity_tie", "instruction": ins, "input": inp, "response_a": a, "response_b": b,
                     "label": "tie", "note": note})
    # Seeded interleaving of the families, then ids in file order.
    order = rng(SEED, "judge_pairs", "order").permutation(len(rows))
    out = []
    for k, i in enumerate(order, start=1):
        out.append({"id": f"jp-{k:04d}", **rows[i]})
    return out


def render(rows: list[dict]) -> str:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)


def main() -> None:
    rows = build_rows()
    OUT.write_text(render(rows), encoding="utf-8")
    counts: dict[tuple[str, str], int] = {}
    for r in rows:
        counts[(r["family"], r["label"])] = counts.get((r["family"], r["label"]), 0) + 1
    print(f"wrote {len(rows)} rows to {OUT}")
    for (fam, lab), n in sorted(counts.items()):
        print(f"  {fam:24s} {lab:4s} {n}")


if __name__ == "__main__":
    main()
