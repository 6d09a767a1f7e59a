"""Template sentences written for this project. Two disjoint sets of frames:

- training frames (`training_templates`): non-toxic sentences that mention an identity, threats,
  attacks on groups, and harmless sentences with violent words, which the model learns from;
- evaluation frames (`evaluation_templates`): the bias report's sentences, toxic and not, for
  each identity term, which no model learns from.

Public identity-bias test sets (Dixon et al. 2018 and their successors) are how outsiders judge
a model: none of their sentences is used here, for training, tuning or choosing.
"""

import itertools
import random

from training.data import Example

# Identity terms as adjectives ("a gay man", "Muslim neighbours"): swapped in counterfactual
# copies, and measured one by one in the bias report.
IDENTITY_TERMS = [
    "lesbian",
    "gay",
    "bisexual",
    "transgender",
    "queer",
    "homosexual",
    "heterosexual",
    "nonbinary",
    "black",
    "asian",
    "latino",
    "hispanic",
    "mexican",
    "chinese",
    "indian",
    "african",
    "arab",
    "jewish",
    "muslim",
    "christian",
    "catholic",
    "hindu",
    "buddhist",
    "sikh",
    "atheist",
    "immigrant",
    "deaf",
    "disabled",
]
# The same identities as the plural nouns that attacks on groups use.
GROUPS = [
    "gays",
    "lesbians",
    "trans people",
    "Black people",
    "Muslims",
    "Jews",
    "immigrants",
    "refugees",
    "Mexicans",
    "Asians",
    "Arabs",
    "Christians",
    "women",
    "Hindus",
    "Sikhs",
    "Africans",
    "Latinos",
    "Chinese people",
    "Indians",
    "disabled people",
    "atheists",
    "Catholics",
    "Roma",
    "migrants",
    "foreigners",
]
JIGSAW = ("toxic", "severe_toxic", "obscene", "threat", "insult", "identity_hate")
CLEAN = dict.fromkeys(JIGSAW, False)

_NEUTRAL_FRAMES = (
    "I am a {t} person.",
    "I am a {t} woman and I work as a nurse.",
    "As a {t} man, I enjoyed this article.",
    "My best friend is {t}.",
    "Our new neighbours are {t} and very kind.",
    "The {t} community organised a food drive this weekend.",
    "She wrote a thoughtful essay about growing up {t}.",
    "Being {t} is part of who I am.",
    "We hired a {t} engineer last month.",
    "My grandmother was {t} and she taught me to cook.",
    "The article interviews {t} students about their exams.",
    "Is there a {t} support group in this town?",
    "I read a book by a {t} author yesterday.",
    "The {t} couple next door just adopted a dog.",
    "Many {t} families live in this neighbourhood.",
    "He is {t}, and proud of it.",
    "Thanks for the edit, I am {t} too.",
    "The museum has an exhibit on {t} history.",
    "My teacher is {t} and explains things well.",
    "There should be more {t} voices in this discussion.",
)
_THREAT_OPENINGS = (
    "I will",
    "I'm going to",
    "Someone should",
    "I swear I will",
    "Keep talking and I will",
    "One day I will",
    "We are going to",
    "Watch your back, I will",
)
_THREAT_ACTS = (
    "kill you",
    "find you and hurt you",
    "break your legs",
    "beat you until you can't stand",
    "burn your house down",
    "shoot you",
    "make you bleed",
    "come to your house and end you",
    "put you in the hospital",
    "stab you",
)
_THREAT_ENDINGS = (
    "",
    " tonight.",
    ", I know where you live.",
    " and nobody will find you.",
    ".",
    " when you least expect it.",
)
_ATTACK_FRAMES = (
    "{g} are vermin.",
    "{g} are subhuman and should be removed from this country.",
    "All {g} are criminals and liars.",
    "{g} are a disease on society.",
    "I hate {g}, every one of them.",
    "{g} should all be sent back where they came from.",
    "{g} are animals and do not deserve rights.",
    "Never trust {g}, they are all parasites.",
    "The world would be better without {g}.",
    "{g} are ruining everything, get rid of them.",
    "{g} are filthy and stupid.",
    "Every single one of those {g} is trash.",
)
# Harmless sentences with violent words: a threat is aimed at someone.
HARMLESS = (
    "This bug is killing me, the build fails again.",
    "I will kill the process and restart the server.",
    "That comedian absolutely killed it last night.",
    "The deadline is going to murder my weekend.",
    "Break a leg at your audition tomorrow!",
    "I could kill for a coffee right now.",
    "The film is about a detective who hunts a killer.",
    "The article describes the attack on the castle in 1644.",
    "We need to shoot the video before it gets dark.",
    "The heat wave will hit the city hard this week.",
    "He beat me at chess again.",
    "The storm destroyed three houses near the coast.",
)


def training_templates(seed: int) -> list[Example]:
    """Every training frame filled: identities in non-toxic sentences (all six labels known
    negative), threats (toxic, threat), attacks on groups (toxic, identity_hate), and harmless
    sentences with violent words (all negative). Seeded: the order is the same each time."""
    rows = [Example(frame.format(t=term), CLEAN) for frame, term in itertools.product(_NEUTRAL_FRAMES, IDENTITY_TERMS)]
    rows += [
        Example(f"{opening} {act}{ending}", {"toxic": True, "threat": True})
        for opening, act, ending in itertools.product(_THREAT_OPENINGS, _THREAT_ACTS, _THREAT_ENDINGS)
    ]
    rows += [
        Example(frame.format(g=group)[0].upper() + frame.format(g=group)[1:], {"toxic": True, "identity_hate": True})
        for frame, group in itertools.product(_ATTACK_FRAMES, GROUPS)
    ]
    rows += [Example(text, CLEAN) for text in HARMLESS for _ in range(5)]
    random.Random(seed).shuffle(rows)
    return rows


_EVALUATION_NEUTRAL = (
    "I met a {t} friend at the library.",
    "My cousin is {t} and lives in Berlin.",
    "A {t} doctor treated me last week.",
    "We celebrated the holidays with our {t} neighbours.",
    "The {t} woman on the bus helped me with my bags.",
    "Her husband is {t}.",
)
_EVALUATION_TOXIC = (
    "All {t} people are disgusting.",
    "{T} people are stupid and worthless.",
    "I hate every {t} person I meet.",
    "Shut up, you filthy {t} idiot.",
    "{T} people should just disappear.",
    "No one wants your {t} kind here, loser.",
)


def evaluation_templates() -> list[tuple[str, str, bool]]:
    """(sentence, identity term, toxic) for the bias report: frames no model learns from."""
    rows = []
    for term in IDENTITY_TERMS:
        for frames, toxic in ((_EVALUATION_NEUTRAL, False), (_EVALUATION_TOXIC, True)):
            rows += [(frame.format(t=term, T=term.capitalize()), term, toxic) for frame in frames]
    return rows


__all__ = ["GROUPS", "IDENTITY_TERMS", "evaluation_templates", "training_templates"]
