"""The fixed word lists of the synthetic corpus: English words and made-up word syllables.

Everything a generation adds, retires or re-ranks is derived from these, so they must not change
without bumping `corpus.FORMAT_VERSION`.
"""

from __future__ import annotations


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


FUNCTION_WORDS: tuple[str, ...] = _words(
    """
    the and a of to is it in i this that was as with for but on you he his are film movie
    have one be all at they by an who so from like her there just or about out if has what
    some can more when very up she time no even my would which only story really see their
    had we me were well than much been get do will also into other because how its most
    first him could make then any made way them after too think characters character watch
    two seen many being plot never little where acting know life best over did ever does
    your off man here still these say why scene scenes end while something back should go
    through those real years doesnt thing now actually though another before work makes old
    nothing new funny both lot actors director going every look again part few cast things
    want quite pretty around got seems young world fact enough however thought take big
    between own give horror may series action right almost original
    """
)

MOVIE_WORDS: tuple[str, ...] = _words(
    """
    performance performances role roles script screenplay ending beginning camera shot shots
    soundtrack score music dialogue dialog editing effects budget sequel remake trailer
    audience viewers theater cinema screen version book novel comedy drama thriller romance
    western documentary animation studio producer writer writers actress hero villain
    heroine family father mother son daughter wife husband girl boy friend friends brother
    sister police detective murder killer monster ghost war town city house school night day
    summer island journey secret mystery battle love romance twist episode season character
    moment moments minutes hour hours plotline storyline premise setting costume costumes
    makeup lighting cinematography direction narrative pacing tone climax finale sequence
    sequences flashback subplot cameo casting critic critics festival oscar award series
    franchise genre
    """
)

POSITIVE_WORDS: tuple[str, ...] = _words(
    """
    good great excellent wonderful amazing brilliant superb perfect beautiful enjoyable
    fantastic loved favorite masterpiece touching hilarious charming delightful stunning
    memorable powerful moving gripping clever entertaining impressive outstanding refreshing
    heartfelt captivating
    """
)

NEGATIVE_WORDS: tuple[str, ...] = _words(
    """
    bad awful terrible boring worst waste poor horrible stupid dull lame mess pointless
    disappointing weak annoying ridiculous mediocre painful forgettable unwatchable cheap
    predictable tedious bland laughable
    """
)

NEGATORS: tuple[str, ...] = ("not", "never", "hardly", "not", "not", "isnt", "wasnt")
INTENSIFIERS: tuple[str, ...] = ("very", "really", "so", "truly", "quite", "absolutely", "rather")
LINKS: tuple[str, ...] = ("was", "is", "felt", "seemed", "looked", "is", "was")

# Syllables of the made-up words: simple consonants and vowels dominate, as in real words.
ONSETS = _words("b d f g k l m n p r s t v z b d k l m n p r s t br dr gr kr pl st tr ch sh")
VOWELS = _words("a e i o u a e i o a e o ai ou")
CODAS = ("", "", "", "", "", "", "n", "r", "s", "l", "m", "k", "t", "nd", "st")
