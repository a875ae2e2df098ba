"""The conversion prompt: system message + one instruction block per domain with worked examples (docs/original.md, "Annotation conversion").

The system message, the shared header and the closing line are the original's, verbatim, from
``lumos.formats.prompts``; the worked examples are our own. A block reads::

    <header with the domain's action list>Example 1:
    Task: A bakery sells muffins for $3 each. ...

    Natural language plan:
    On Tuesday the bakery sold 14 * 2 = <<14*2=28>>28 muffins. ...

    Subgoal-based plan:
    Subgoal 1: Calculate how many muffins were sold on Tuesday.
    Action 1-1: R1 = Calculator(14 * 2) = 28
    ...
    <closing line>Task: <the real task>

    Natural language plan: <its plan>

Exercise: ``pytest tests/conversion/test_conv_instructions.py``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import NamedTuple

from lumos.conversion.sources import SourceRecord
from lumos.formats.prompts import (
    CONVERSION_ACTIONS,
    CONVERSION_CLOSING,
    CONVERSION_CLOSING_SPACED,
    CONVERSION_HEADER,
    CONVERSION_SYSTEM,
    conversion_user,
)


class Example(NamedTuple):
    task: str
    plan: str
    subgoal_plan: str


MULTIMODAL_ACTIONS = "'VQA' and 'QA'"

_GSM = (
    Example(
        "A bakery sells muffins for $3 each. On Monday it sold 14 muffins and on Tuesday it sold twice as many. "
        "How much money did the bakery make from muffins on the two days?",
        "On Tuesday the bakery sold 14 * 2 = <<14*2=28>>28 muffins. Over both days it sold 14 + 28 = <<14+28=42>>42 "
        "muffins. It made 42 * 3 = $<<42*3=126>>126.",
        "Subgoal 1: Calculate how many muffins were sold on Tuesday.\n"
        "Action 1-1: R1 = Calculator(14 * 2) = 28\n\n"
        "Subgoal 2: Calculate how many muffins were sold over the two days.\n"
        "Action 2-1: R2 = Calculator(14 + R1) = 42\n\n"
        "Subgoal 3: Calculate the money made from all the muffins.\n"
        "Action 3-1: R3 = Calculator(R2 * 3) = 126",
    ),
    Example(
        "Tom is 4 years older than his sister. Together their ages add up to 30. How old is Tom's sister?",
        "Let the sister's age be s. Tom is then s + 4, and s + (s + 4) = 30, so 2s = 26 and s = 13.",
        "Subgoal 1: Define the sister's age as an unknown.\n"
        "Action 1-1: R1 = Define(s) = s\n\n"
        "Subgoal 2: Express Tom's age with the unknown.\n"
        "Action 2-1: R2 = Calculator(R1 + 4) = s + 4\n\n"
        "Subgoal 3: Set the sum of both ages equal to 30 and solve for the sister's age.\n"
        "Action 3-1: R3 = SolveEquation(R1 + R2 = 30) = 13",
    ),
    Example(
        "Mia writes down every even number between 1 and 11 and then multiplies how many she wrote by 5. "
        "What number does she get?",
        "The even numbers between 1 and 11 are 2, 4, 6, 8 and 10, so she wrote 5 numbers. 5 * 5 = <<5*5=25>>25.",
        "Subgoal 1: Count the even numbers between 1 and 11.\n"
        "Action 1-1: R1 = Count(2, 4, 6, 8, 10) = 5\n\n"
        "Subgoal 2: Multiply the count by 5.\n"
        "Action 2-1: R2 = Calculator(R1 * 5) = 25",
    ),
    Example(
        "A jacket costs $80 and is on sale for 25% off. A sales tax of 10% is then added to the sale price. "
        "What does the jacket cost in the end?",
        "The discount is 80 * 0.25 = $<<80*0.25=20>>20, so the sale price is 80 - 20 = $<<80-20=60>>60. "
        "The tax is 60 * 0.1 = $<<60*0.1=6>>6, so the final price is 60 + 6 = $<<60+6=66>>66.",
        "Subgoal 1: Calculate the discount on the jacket.\n"
        "Action 1-1: R1 = Calculator(80 * 25%) = 20\n\n"
        "Subgoal 2: Calculate the sale price after the discount.\n"
        "Action 2-1: R2 = Calculator(80 - R1) = 60\n\n"
        "Subgoal 3: Calculate the sales tax on the sale price.\n"
        "Action 3-1: R3 = Calculator(R2 * 10%) = 6\n\n"
        "Subgoal 4: Calculate the final price including tax.\n"
        "Action 4-1: R4 = Calculator(R2 + R3) = 66",
    ),
)

_PRM = (
    Example(
        "If $3x + 7 = 22$, what is the value of $x^2 - 1$?",
        "Subtracting 7 from both sides gives $3x = 15$, so $x = 5$. Then $x^2 - 1 = 25 - 1 = \\boxed{24}$.",
        "Subgoal 1: Set up the equation given in the problem.\n"
        "Action 1-1: R1 = SetEquation(3x + 7 = 22) = 3x + 7 = 22\n\n"
        "Subgoal 2: Solve the equation for x.\n"
        "Action 2-1: R2 = SolveEquation(R1) = 5\n\n"
        "Subgoal 3: Evaluate x^2 - 1 at the solution.\n"
        "Action 3-1: Output = Calculator(R2^2 - 1) = 24",
    ),
    Example(
        "How many integers $n$ with $1 \\le n \\le 20$ are divisible by both 2 and 3?",
        "An integer divisible by both 2 and 3 is divisible by 6. The multiples of 6 up to 20 are 6, 12 and 18, "
        "so there are $\\boxed{3}$ such integers.",
        "Subgoal 1: List the integers from 1 to 20 that are divisible by 6.\n"
        "Action 1-1: R1 = Code(Return [n for n from 1 to 20 if n % 6 == 0]) = [6, 12, 18]\n\n"
        "Subgoal 2: Count the integers in the list.\n"
        "Action 2-1: Output = Count(R1) = 3",
    ),
    Example(
        "What is the smallest integer $k$ such that $2k - 5 > 9$?",
        "Adding 5 to both sides gives $2k > 14$, so $k > 7$. The smallest integer larger than 7 is $\\boxed{8}$.",
        "Subgoal 1: Define the unknown integer.\n"
        "Action 1-1: R1 = Define(k) = k\n\n"
        "Subgoal 2: Solve the inequality for the unknown.\n"
        "Action 2-1: R2 = SolveInequality(2*R1 - 5 > 9) = k > 7\n\n"
        "Subgoal 3: Find the smallest integer that satisfies the inequality.\n"
        "Action 3-1: Output = Code(Return the smallest integer n with n > 7) = 8",
    ),
)

_QA = (
    Example(
        "Was the Eiffel Tower finished before the Statue of Liberty was dedicated?",
        "We find relevant facts: The Eiffel Tower was completed in 1889. The Statue of Liberty was dedicated in 1886. "
        "We need to answer these questions: 1. When was the Eiffel Tower completed? (Can be answered based on "
        "paragraph 'Eiffel Tower-2') 2. When was the Statue of Liberty dedicated? (Can be answered based on paragraph "
        "'Statue of Liberty-5') 3. Is #1 before #2? Based on these evidences and decomposed questions, the answer is False.",
        "Subgoal 1: Obtain the year the Eiffel Tower was completed.\n"
        "Action 1-1: R1 = KnowledgeQuery(Eiffel Tower) = WikipediaPage(Eiffel Tower).\n"
        "Action 1-2: R2 = ParagraphRetrieve(R1, Query: When was the Eiffel Tower completed?) = Paragraph(Eiffel Tower-2).\n"
        "Action 1-3: R3 = QA([R2], Question: When was the Eiffel Tower completed?) = 1889.\n\n"
        "Subgoal 2: Obtain the year the Statue of Liberty was dedicated.\n"
        "Action 2-1: R4 = KnowledgeQuery(Statue of Liberty) = WikipediaPage(Statue of Liberty).\n"
        "Action 2-2: R5 = ParagraphRetrieve(R4, Query: When was the Statue of Liberty dedicated?) = Paragraph(Statue of Liberty-5).\n"
        "Action 2-3: R6 = QA([R5], Question: When was the Statue of Liberty dedicated?) = 1886.\n\n"
        "Subgoal 3: Decide whether the tower was completed before the statue was dedicated.\n"
        "Action 3-1: R7 = Calculator(R3 < R6) = False.",
    ),
    Example(
        "Would a vegetarian order a pizza whose only topping is prosciutto?",
        "We find relevant facts: Vegetarians do not eat meat. Prosciutto is a dry-cured ham. We need to answer these "
        "questions: 1. What do vegetarians avoid eating? (Can be answered based on paragraph 'Vegetarianism-1') "
        "2. What kind of food is prosciutto? (Can be answered based on paragraph 'Prosciutto-1') 3. Is #2 something "
        "vegetarians eat? Based on these evidences and decomposed questions, the answer is False.",
        "Subgoal 1: Find out what vegetarians avoid eating.\n"
        "Action 1-1: R1 = KnowledgeQuery(Vegetarianism) = WikipediaPage(Vegetarianism).\n"
        "Action 1-2: R2 = ParagraphRetrieve(R1, Query: What do vegetarians avoid eating?) = Paragraph(Vegetarianism-1).\n"
        "Action 1-3: R3 = QA([R2], Question: What do vegetarians avoid eating?) = meat.\n\n"
        "Subgoal 2: Find out what kind of food prosciutto is.\n"
        "Action 2-1: R4 = KnowledgeQuery(Prosciutto) = WikipediaPage(Prosciutto).\n"
        "Action 2-2: R5 = ParagraphRetrieve(R4, Query: What kind of food is prosciutto?) = Paragraph(Prosciutto-1).\n"
        "Action 2-3: R6 = QA([R5], Question: What kind of food is prosciutto?) = a dry-cured ham.\n\n"
        "Subgoal 3: Decide whether a vegetarian would eat a prosciutto pizza.\n"
        "Action 3-1: R7 = QA([R3, R6], Question: Would a vegetarian eat a pizza topped with prosciutto?) = False.",
    ),
    Example(
        "In which country was the composer of the opera Carmen born?",
        "We find relevant facts:  Carmen is an opera in four acts by the French composer Georges Bizet.  Georges Bizet "
        "was born in Paris, France, in 1838. We need to answer these questions: 1. Who composed the opera Carmen? "
        "(Can be answered based on paragraph 'Carmen') 2. In which country was Georges Bizet born? (Can be answered "
        "based on paragraph 'Georges Bizet') Based on these evidences and decomposed questions, the answer is France.",
        "Subgoal 1: Obtain the composer of the opera Carmen.\n"
        "Action 1-1: R1 = KnowledgeQuery(Carmen) = WikipediaPage(Carmen).\n"
        "Action 1-2: R2 = ParagraphRetrieve(R1, Query: Who composed the opera Carmen?) = Paragraph(Carmen).\n"
        "Action 1-3: R3 = QA([R2], Question: Who composed the opera Carmen?) = Georges Bizet.\n\n"
        "Subgoal 2: Obtain the country where Georges Bizet was born.\n"
        "Action 2-1: R4 = KnowledgeQuery(Georges Bizet) = WikipediaPage(Georges Bizet).\n"
        "Action 2-2: R5 = ParagraphRetrieve(R4, Query: In which country was Georges Bizet born?) = Paragraph(Georges Bizet).\n"
        "Action 2-3: R6 = QA([R5], Question: In which country was Georges Bizet born?) = France.",
    ),
)

_WEB = (
    Example(
        "Find one-way train tickets from Boston to New York on May 12 for one adult.",
        "[link]  Trains -> CLICK; [textbox]  From -> TYPE: Boston; [li]  Boston, MA - South Station -> CLICK; "
        "[textbox]  To -> TYPE: New York; [li]  New York, NY - Penn Station -> CLICK; [button]  One way -> CLICK; "
        "[button]  May 12, 2023 -> CLICK; [button]  Search -> CLICK",
        "Subgoal 1: Open the section for train tickets.\n"
        "Action 1-1: R1 = CLICK(Env, QUERY: Open the section for train tickets)\n\n"
        "Subgoal 2: Type Boston as the departure city.\n"
        "Action 2-1: R2 = TYPE(R1, QUERY: Type Boston as the departure city, TEXT: Boston)\n\n"
        "Subgoal 3: Pick South Station in Boston from the suggestions.\n"
        "Action 3-1: R3 = CLICK(R2, QUERY: Pick South Station in Boston from the suggestions)\n\n"
        "Subgoal 4: Type New York as the destination city.\n"
        "Action 4-1: R4 = TYPE(R3, QUERY: Type New York as the destination city, TEXT: New York)\n\n"
        "Subgoal 5: Pick Penn Station in New York from the suggestions.\n"
        "Action 5-1: R5 = CLICK(R4, QUERY: Pick Penn Station in New York from the suggestions)\n\n"
        "Subgoal 6: Choose a one-way trip.\n"
        "Action 6-1: R6 = CLICK(R5, QUERY: Choose a one-way trip)\n\n"
        "Subgoal 7: Choose May 12 as the travel date.\n"
        "Action 7-1: R7 = CLICK(R6, QUERY: Choose May 12 as the travel date)\n\n"
        "Subgoal 8: Start the search for trains.\n"
        "Action 8-1: R8 = CLICK(R7, QUERY: Start the search for trains)",
    ),
    Example(
        "Show the laptops in the electronics department sorted by lowest price.",
        "[link]  Electronics -> CLICK; [link]  Laptops -> CLICK; [combobox]  Sort by -> SELECT: Price: Low to High",
        "Subgoal 1: Go to the electronics department.\n"
        "Action 1-1: R1 = CLICK(Env, QUERY: Go to the electronics department)\n\n"
        "Subgoal 2: Open the laptops category.\n"
        "Action 2-1: R2 = CLICK(R1, QUERY: Open the laptops category)\n\n"
        "Subgoal 3: Sort the laptops from the lowest to the highest price.\n"
        "Action 3-1: R3 = SELECT(R2, QUERY: Sort the laptops from the lowest to the highest price, TEXT: Price: Low to High)",
    ),
)

_MULTIMODAL = (
    Example(
        "What is the man with the umbrella most likely protecting himself from? Options: sun, rain, snow, wind.",
        "The sky is grey and the street is wet, and umbrellas keep people dry. So the answer is rain.",
        "Subgoal 1: Describe the weather shown in the image.\n"
        "Action 1-1: R1 = VQA([IMG], Question: What is the weather like in the image?) = The sky is grey and the street is wet.\n\n"
        "Subgoal 2: Decide what the umbrella protects the man from.\n"
        "Action 2-1: R2 = QA([R1], Question: What is the man with the umbrella protecting himself from? Options: sun, "
        "rain, snow, wind.) = rain",
    ),
    Example(
        "Which meal of the day is the food on the table usually eaten at? Options: breakfast, lunch, dinner, dessert.",
        "The table holds pancakes, fried eggs and a glass of orange juice, which people usually eat in the morning. "
        "So the answer is breakfast.",
        "Subgoal 1: Identify the food on the table.\n"
        "Action 1-1: R1 = VQA([IMG], Question: What food is on the table?) = pancakes, fried eggs and orange juice.\n\n"
        "Subgoal 2: Decide which meal this food is usually eaten at.\n"
        "Action 2-1: R2 = QA([R1], Question: Which meal of the day is this food usually eaten at? Options: breakfast, "
        "lunch, dinner, dessert.) = breakfast",
    ),
)


def _block(actions: str, examples: tuple[Example, ...], closing: str) -> str:
    body = "".join(
        f"Example {i}:\nTask: {ex.task}\n\nNatural language plan:\n{ex.plan}\n\nSubgoal-based plan:\n{ex.subgoal_plan}\n\n"
        for i, ex in enumerate(examples, 1)
    )
    return CONVERSION_HEADER.replace("<ACTIONS>", actions) + body + closing


INSTRUCTION_BLOCKS: Mapping[str, str] = {
    "maths_gsm": _block(CONVERSION_ACTIONS["maths_gsm"], _GSM, CONVERSION_CLOSING),
    "maths_prm": _block(CONVERSION_ACTIONS["maths_prm"], _PRM, CONVERSION_CLOSING),
    "complex_qa": _block(CONVERSION_ACTIONS["complex_qa"], _QA, CONVERSION_CLOSING_SPACED),
    "web_agent": _block(CONVERSION_ACTIONS["web_agent"], _WEB, CONVERSION_CLOSING_SPACED),
    "multimodal": _block(MULTIMODAL_ACTIONS, _MULTIMODAL, CONVERSION_CLOSING_SPACED),
}
EXAMPLES: Mapping[str, tuple[Example, ...]] = {
    "maths_gsm": _GSM,
    "maths_prm": _PRM,
    "complex_qa": _QA,
    "web_agent": _WEB,
    "multimodal": _MULTIMODAL,
}
BLOCK_OF_SOURCE: Mapping[str, str] = {
    "gsm8k": "maths_gsm",
    "asdiv": "maths_gsm",
    "prm800k": "maths_prm",
    "math": "maths_prm",
    "strategyqa": "complex_qa",
    "musique": "complex_qa",
    "mind2web": "web_agent",
    "aokvqa": "multimodal",
}
MAX_TOKENS: Mapping[str, int] = {"maths": 500, "complex_qa": 500, "web_agent": 800, "multimodal": 500}


# --------------------------------------------------------------------------------------------
# The original's InterCode-SQL block (``instruction_icode_sql``), byte-identical: the original ships it but no code
# uses it. Its examples define the SQL action forms (``R1 = SHOW TABLES``, ``R2 = DESCRIBE t``, clauses carried as
# values, the final ``SELECT``); see ``lumos.envs.sql.actions``. Its "natural language plan" lists the tables and
# columns and the gold query (``icode_sql_plan`` builds one).
# --------------------------------------------------------------------------------------------
ICODE_SQL_ACTIONS = "the valid operations used in SQL"
_ICODE_SQL_EXAMPLES = (
    'Example 1:\n'
    'Task: Find the name of airports which do not have any flight in and out.\n'
    '\n'
    'Natural language plan:\n'
    'We have 3 SQL tables: airlines, airports, flights. Airlines table has columns: uid (type: INT), Airline (type: INT), Abbreviation (type: TEXT), Country (type: TEXT). Airports table has columns: City (type: TEXT), AirportCode (type: VARCHAR(255)), AirportName (type: TEXT), Country (type: TEXT), CountryAbbrev (type: TEXT). Flights table has columns: Airline (type: INT), FlightNo (type: INT), SourceAirport (type: VARCHAR(255)), DestAirport (type: VARCHAR(255)). The gold SQL query for this task is SELECT AirportName FROM Airports WHERE AirportCode NOT IN (SELECT SourceAirport FROM Flights UNION SELECT DestAirport FROM Flights). \n'
    '\n'
    'Subgoal-based plan:\n'
    'Subgoal 1: Find all the related tables.\n'
    'Action 1-1: R1 = SHOW TABLES = airlines, airports, flights. \n'
    '\n'
    'Subgoal 2: Describe the columns for all the related tables.\n'
    'Action 2-1: R2 = DESCRIBE airlines = uid (type: INT), Airline (type: INT), Abbreviation (type: TEXT), Country (type: TEXT). \n'
    'Action 2-2: R3 = DESCRIBE airports = City (type: TEXT), AirportCode (type: VARCHAR(255)), AirportName (type: TEXT), Country (type: TEXT), CountryAbbrev (type: TEXT). \n'
    'Action 2-3: R4 = DESCRIBE flights = Airline (type: INT), FlightNo (type: INT), SourceAirport (type: VARCHAR(255)), DestAirport (type: VARCHAR(255)). \n'
    '\n'
    'Subgoal 3: Write the selection objects: the airports in airports table.\n'
    'Action 3-1: R5 = AirportName FROM airports. \n'
    '\n'
    'Subgoal 4: Write the selection condition: the queried airports should be neither the source airports nor destination airports for all the flights.\n'
    'Action 4-1: R6 = AirportCode NOT IN (SELECT SourceAirport FROM Flights UNION SELECT DestAirport FROM Flights). \n'
    '\n'
    'Subgoal 5: Finish the SQL query to select the name of airports satisfying the previous condition.\n'
    'Action 5-1: R7 = SELECT AirportName FROM airports WHERE AirportCode NOT IN (SELECT SourceAirport FROM Flights UNION SELECT DestAirport FROM Flights). \n'
    '\n'
    'Example 2:\n'
    'Task: What is the average GNP and total population in all nations whose government is US territory?\n'
    '\n'
    'Natural language plan:\n'
    'We have 1 SQL tables: country. Country table has columns: Code (type: CHAR(3)), Name (type: CHAR(52)), Continent (type: TEXT), Region (type: CHAR(26)), Population (type: INT), GNP (type: FLOAT(10,2)), GovernmentForm (type: CHAR(45)). The gold SQL query for this task is SELECT avg(GNP) , sum(Population) FROM country WHERE GovernmentForm = "US Territory". \n'
    '\n'
    'Subgoal-based plan:\n'
    'Subgoal 1: Find all the related tables.\n'
    'Action 1-1: R1 = SHOW TABLES = country. \n'
    '\n'
    'Subgoal 2: Describe the columns for all the related tables.\n'
    'Action 2-1: R2 = DESCRIBE country = Code (type: CHAR(3)), Name (type: CHAR(52)), Continent (type: TEXT), Region (type: CHAR(26)), Population (type: INT), GNP (type: FLOAT(10,2)), GovernmentForm (type: CHAR(45)). \n'
    '\n'
    'Subgoal 3: Write the selection objects: the average GNP and total population in country table.\n'
    'Action 3-1: R3 = avg(GNP) , sum(Population) FROM country. \n'
    '\n'
    "Subgoal 4: Write the selection condition: the countries' government should be US territory.\n"
    'Action 4-1: R4 = GovernmentForm = "US Territory". \n'
    '\n'
    'Subgoal 5: Finish the SQL query to calculate the average GNP and total population in all nations satisfying the previous condition.\n'
    'Action 5-1: R5 = SELECT avg(GNP) , sum(Population) FROM country WHERE GovernmentForm = "US Territory". \n'
    '\n'
    'Example 3:\n'
    'Task: How many pets are owned by students that have an age greater than 20?\n'
    '\n'
    'Natural language plan:\n'
    'We have 3 SQL tables: student, has_pet, pets. Student table has columns: stuid (type: INT), age (type: INT). Has_pet table has columns: stuid (type: INT), petid (type: INT). Pets table has columns: petid (type: INT), pet_age (type: INT). The gold SQL query for this task is SELECT COUNT(*) FROM has_pet INNER JOIN student ON has_pet.stuid = student.stuid WHERE student.age > 20. \n'
    '\n'
    'Subgoal-based plan:\n'
    'Subgoal 1: Find all the related tables.\n'
    'Action 1-1: R1 = SHOW TABLES = student, has_pet, pets. \n'
    '\n'
    'Subgoal 2: Describe the columns for all the related tables.\n'
    'Action 2-1: R2 = DESCRIBE student = stuid (type: INT), age (type: INT). \n'
    'Action 2-1: R3 = DESCRIBE has_pet = stuid (type: INT), petid (type: INT). \n'
    'Action 2-1: R4 = DESCRIBE pets = petid (type: INT), pet_age (type: INT). \n'
    '\n'
    'Subgoal 3: Write the selection objects: the number of pets owned by students.\n'
    'Action 3-1: R5 = COUNT(*) FROM has_pet INNER JOIN student ON has_pet.stuid = student.stuid. \n'
    '\n'
    'Subgoal 4: Write the selection condition: students should have an age greater than 20.\n'
    'Action 4-1: R6 = student.age > 20. \n'
    '\n'
    'Subgoal 5: Finish the SQL query to calculate the number of pets owned by students satisfying the previous condition.\n'
    'Action 5-1: R7 = SELECT COUNT(*) FROM has_pet INNER JOIN student ON has_pet.stuid = student.stuid WHERE student.age > 20. \n'
    '\n'
    'Example 4:\n'
    'Task: Sort all the shops by number products in descending order, and return the name, location and district of each shop.\n'
    '\n'
    'Natural language plan:\n'
    'We have 2 SQL tables: employee, shop. Employee table has columns: Name (type: TEXT), Age (type: INT), City (type: TEXT). Shop table has columns: Name (type: TEXT), Location (type: TEXT), District (type: TEXT), Number_products (type: INT). The gold SQL query for this task is SELECT Name, Location, District FROM shop ORDER BY Number_products DESC. \n'
    '\n'
    'Subgoal-based plan:\n'
    'Subgoal 1: Find all the related tables.\n'
    'Action 1-1: R1 = SHOW TABLES = employee, shop. \n'
    '\n'
    'Subgoal 2: Describe the columns for all the related tables.\n'
    'Action 2-1: R2 = DESCRIBE employee = Name (type: TEXT), Age (type: INT), City (type: TEXT). \n'
    'Action 2-2: R3 = DESCRIBE shop = Name (type: TEXT), Location (type: TEXT), District (type: TEXT), Number_products (type: INT). \n'
    '\n'
    'Subgoal 3: Write the selection objects: the name, location and district in shop table.\n'
    'Action 3-1: R4 = Name, Location, District FROM shop. \n'
    '\n'
    'Subgoal 4: Write the selection condition: sort all the shops by number products in descending order.\n'
    'Action 4-1: R5 = ORDER BY Number_products DESC. \n'
    '\n'
    'Subgoal 5: Finish the SQL query to return the name, location and district of the shops after sorting.\n'
    'Action 5-1: R6 = SELECT Name, Location, District FROM shop ORDER BY Number_products DESC. \n'
    '\n'
)
INSTRUCTION_ICODE_SQL = CONVERSION_HEADER.replace("<ACTIONS>", ICODE_SQL_ACTIONS) + _ICODE_SQL_EXAMPLES + CONVERSION_CLOSING_SPACED


def icode_sql_plan(tables: Mapping[str, Sequence[tuple[str, str]]], gold: str) -> str:
    """The block's natural-language plan for one question: tables, their columns with upper-case types, gold query.

    ``tables`` maps a table name to ``(column, type)`` pairs (``DESCRIBE``'s first two fields), e.g.
    ``{"country": [("Code", "char(3)"), ...]}`` gives ``"We have 1 SQL tables: country. Country table has columns:
    Code (type: CHAR(3)), .... The gold SQL query for this task is <gold>. "``.
    """
    parts = [f"We have {len(tables)} SQL tables: {', '.join(tables)}."]
    for name, cols in tables.items():
        listed = ", ".join(f"{c} (type: {t.upper()})" for c, t in cols)
        parts.append(f"{name[:1].upper()}{name[1:]} table has columns: {listed}.")
    parts.append(f"The gold SQL query for this task is {gold}. ")
    return " ".join(parts)


def plan_text(record: SourceRecord) -> str:
    """The natural-language plan as shown to the converter (Mind2Web's action list joined by ``"; "``)."""
    if record.plan is None:
        raise ValueError(f"{record.where}: record {record.id} has no natural-language plan to convert")
    return "; ".join(record.plan) if isinstance(record.plan, list) else record.plan


def conversion_messages(record: SourceRecord) -> list[dict[str, str]]:
    """The two chat messages of one conversion request: the system message and block + task + plan."""
    block = INSTRUCTION_BLOCKS[BLOCK_OF_SOURCE[record.source]]
    return [
        {"role": "system", "content": CONVERSION_SYSTEM},
        {"role": "user", "content": conversion_user(block, record.task, plan_text(record))},
    ]
