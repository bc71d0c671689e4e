"""Every discrete map of the catalogue, by its dysts name.

`from jaxlab.systems.maps import Henon` mirrors `from dysts.maps import Henon`. The
`Duffing` map lives only here; `jaxlab.systems.Duffing` is the Duffing flow.
"""

from ._maps import Baker as Baker
from ._maps import Bedhead as Bedhead
from ._maps import BlinkingVortexMap as BlinkingVortexMap
from ._maps import Bogdanov as Bogdanov
from ._maps import Chebyshev as Chebyshev
from ._maps import Chirikov as Chirikov
from ._maps import Circle as Circle
from ._maps import DeJong as DeJong
from ._maps import Duffing as Duffing
from ._maps import Gauss as Gauss
from ._maps import Gingerbreadman as Gingerbreadman
from ._maps import GumowskiMira as GumowskiMira
from ._maps import Henon as Henon
from ._maps import Hopalong as Hopalong
from ._maps import Ikeda as Ikeda
from ._maps import KaplanYorke as KaplanYorke
from ._maps import Logistic as Logistic
from ._maps import MaynardSmith as MaynardSmith
from ._maps import Pickover as Pickover
from ._maps import Ricker as Ricker
from ._maps import Svensson as Svensson
from ._maps import Tent as Tent
from ._maps import Tinkerbell as Tinkerbell

__all__ = [
    "Baker",
    "Bedhead",
    "BlinkingVortexMap",
    "Bogdanov",
    "Chebyshev",
    "Chirikov",
    "Circle",
    "DeJong",
    "Duffing",
    "Gauss",
    "Gingerbreadman",
    "GumowskiMira",
    "Henon",
    "Hopalong",
    "Ikeda",
    "KaplanYorke",
    "Logistic",
    "MaynardSmith",
    "Pickover",
    "Ricker",
    "Svensson",
    "Tent",
    "Tinkerbell",
]
