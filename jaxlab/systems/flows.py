"""Every ordinary-differential-equation system of the catalogue, by its dysts name.

`from jaxlab.systems.flows import Lorenz` mirrors `from dysts.flows import Lorenz`.
"""

from ._flows import Aizawa as Aizawa
from ._flows import AnishchenkoAstakhov as AnishchenkoAstakhov
from ._flows import Arneodo as Arneodo
from ._flows import ArnoldBeltramiChildress as ArnoldBeltramiChildress
from ._flows import ArnoldWeb as ArnoldWeb
from ._flows import AtmosphericRegime as AtmosphericRegime
from ._flows import BeerRNN as BeerRNN
from ._flows import BelousovZhabotinsky as BelousovZhabotinsky
from ._flows import BickleyJet as BickleyJet
from ._flows import Blasius as Blasius
from ._flows import BlinkingRotlet as BlinkingRotlet
from ._flows import BlinkingVortex as BlinkingVortex
from ._flows import Bouali as Bouali
from ._flows import Bouali2 as Bouali2
from ._flows import BurkeShaw as BurkeShaw
from ._flows import CaTwoPlus as CaTwoPlus
from ._flows import CaTwoPlusQuasiperiodic as CaTwoPlusQuasiperiodic
from ._flows import CellCycle as CellCycle
from ._flows import CellularNeuralNetwork as CellularNeuralNetwork
from ._flows import Chen as Chen
from ._flows import ChenLee as ChenLee
from ._flows import Chua as Chua
from ._flows import CircadianRhythm as CircadianRhythm
from ._flows import CoevolvingPredatorPrey as CoevolvingPredatorPrey
from ._flows import Colpitts as Colpitts
from ._flows import Coullet as Coullet
from ._flows import Dadras as Dadras
from ._flows import DequanLi as DequanLi
from ._flows import DoubleGyre as DoubleGyre
from ._flows import DoublePendulum as DoublePendulum
from ._flows import Duffing as Duffing
from ._flows import ExcitableCell as ExcitableCell
from ._flows import Finance as Finance
from ._flows import FluidTrampoline as FluidTrampoline
from ._flows import ForcedBrusselator as ForcedBrusselator
from ._flows import ForcedFitzHughNagumo as ForcedFitzHughNagumo
from ._flows import ForcedVanDerPol as ForcedVanDerPol
from ._flows import GenesioTesi as GenesioTesi
from ._flows import GlycolyticOscillation as GlycolyticOscillation
from ._flows import GuckenheimerHolmes as GuckenheimerHolmes
from ._flows import Hadley as Hadley
from ._flows import Halvorsen as Halvorsen
from ._flows import HastingsPowell as HastingsPowell
from ._flows import HenonHeiles as HenonHeiles
from ._flows import HindmarshRose as HindmarshRose
from ._flows import Hopfield as Hopfield
from ._flows import HyperBao as HyperBao
from ._flows import HyperCai as HyperCai
from ._flows import HyperJha as HyperJha
from ._flows import HyperLorenz as HyperLorenz
from ._flows import HyperLu as HyperLu
from ._flows import HyperPang as HyperPang
from ._flows import HyperQi as HyperQi
from ._flows import HyperRossler as HyperRossler
from ._flows import HyperWang as HyperWang
from ._flows import HyperXu as HyperXu
from ._flows import HyperYan as HyperYan
from ._flows import HyperYangChen as HyperYangChen
from ._flows import InteriorSquirmer as InteriorSquirmer
from ._flows import IsothermalChemical as IsothermalChemical
from ._flows import ItikBanksTumor as ItikBanksTumor
from ._flows import JerkCircuit as JerkCircuit
from ._flows import KawczynskiStrizhak as KawczynskiStrizhak
from ._flows import Laser as Laser
from ._flows import LidDrivenCavityFlow as LidDrivenCavityFlow
from ._flows import LiuChen as LiuChen
from ._flows import Lorenz as Lorenz
from ._flows import Lorenz84 as Lorenz84
from ._flows import Lorenz96 as Lorenz96
from ._flows import LorenzBounded as LorenzBounded
from ._flows import LorenzCoupled as LorenzCoupled
from ._flows import LorenzStenflo as LorenzStenflo
from ._flows import LuChen as LuChen
from ._flows import LuChenCheng as LuChenCheng
from ._flows import MacArthur as MacArthur
from ._flows import MooreSpiegel as MooreSpiegel
from ._flows import MultiChua as MultiChua
from ._flows import NewtonLiepnik as NewtonLiepnik
from ._flows import NoseHoover as NoseHoover
from ._flows import NuclearQuadrupole as NuclearQuadrupole
from ._flows import OscillatingFlow as OscillatingFlow
from ._flows import PanXuZhou as PanXuZhou
from ._flows import PehlivanWei as PehlivanWei
from ._flows import Qi as Qi
from ._flows import QiChen as QiChen
from ._flows import RabinovichFabrikant as RabinovichFabrikant
from ._flows import RayleighBenard as RayleighBenard
from ._flows import RikitakeDynamo as RikitakeDynamo
from ._flows import Rossler as Rossler
from ._flows import Rucklidge as Rucklidge
from ._flows import Sakarya as Sakarya
from ._flows import SaltonSea as SaltonSea
from ._flows import SanUmSrisuchinwong as SanUmSrisuchinwong
from ._flows import ShimizuMorioka as ShimizuMorioka
from ._flows import SprottA as SprottA
from ._flows import SprottB as SprottB
from ._flows import SprottC as SprottC
from ._flows import SprottD as SprottD
from ._flows import SprottE as SprottE
from ._flows import SprottF as SprottF
from ._flows import SprottG as SprottG
from ._flows import SprottH as SprottH
from ._flows import SprottI as SprottI
from ._flows import SprottJ as SprottJ
from ._flows import SprottJerk as SprottJerk
from ._flows import SprottK as SprottK
from ._flows import SprottL as SprottL
from ._flows import SprottM as SprottM
from ._flows import SprottMore as SprottMore
from ._flows import SprottN as SprottN
from ._flows import SprottO as SprottO
from ._flows import SprottP as SprottP
from ._flows import SprottQ as SprottQ
from ._flows import SprottR as SprottR
from ._flows import SprottS as SprottS
from ._flows import SprottTorus as SprottTorus
from ._flows import StickSlipOscillator as StickSlipOscillator
from ._flows import SwingingAtwood as SwingingAtwood
from ._flows import Thomas as Thomas
from ._flows import ThomasLabyrinth as ThomasLabyrinth
from ._flows import Torus as Torus
from ._flows import Tsucs2 as Tsucs2
from ._flows import TurchinHanski as TurchinHanski
from ._flows import VallisElNino as VallisElNino
from ._flows import WangSun as WangSun
from ._flows import WindmiReduced as WindmiReduced
from ._flows import YuWang as YuWang
from ._flows import YuWang2 as YuWang2
from ._flows import ZhouChen as ZhouChen

__all__ = [
    "Aizawa",
    "AnishchenkoAstakhov",
    "Arneodo",
    "ArnoldBeltramiChildress",
    "ArnoldWeb",
    "AtmosphericRegime",
    "BeerRNN",
    "BelousovZhabotinsky",
    "BickleyJet",
    "Blasius",
    "BlinkingRotlet",
    "BlinkingVortex",
    "Bouali",
    "Bouali2",
    "BurkeShaw",
    "CaTwoPlus",
    "CaTwoPlusQuasiperiodic",
    "CellCycle",
    "CellularNeuralNetwork",
    "Chen",
    "ChenLee",
    "Chua",
    "CircadianRhythm",
    "CoevolvingPredatorPrey",
    "Colpitts",
    "Coullet",
    "Dadras",
    "DequanLi",
    "DoubleGyre",
    "DoublePendulum",
    "Duffing",
    "ExcitableCell",
    "Finance",
    "FluidTrampoline",
    "ForcedBrusselator",
    "ForcedFitzHughNagumo",
    "ForcedVanDerPol",
    "GenesioTesi",
    "GlycolyticOscillation",
    "GuckenheimerHolmes",
    "Hadley",
    "Halvorsen",
    "HastingsPowell",
    "HenonHeiles",
    "HindmarshRose",
    "Hopfield",
    "HyperBao",
    "HyperCai",
    "HyperJha",
    "HyperLorenz",
    "HyperLu",
    "HyperPang",
    "HyperQi",
    "HyperRossler",
    "HyperWang",
    "HyperXu",
    "HyperYan",
    "HyperYangChen",
    "InteriorSquirmer",
    "IsothermalChemical",
    "ItikBanksTumor",
    "JerkCircuit",
    "KawczynskiStrizhak",
    "Laser",
    "LidDrivenCavityFlow",
    "LiuChen",
    "Lorenz",
    "Lorenz84",
    "Lorenz96",
    "LorenzBounded",
    "LorenzCoupled",
    "LorenzStenflo",
    "LuChen",
    "LuChenCheng",
    "MacArthur",
    "MooreSpiegel",
    "MultiChua",
    "NewtonLiepnik",
    "NoseHoover",
    "NuclearQuadrupole",
    "OscillatingFlow",
    "PanXuZhou",
    "PehlivanWei",
    "Qi",
    "QiChen",
    "RabinovichFabrikant",
    "RayleighBenard",
    "RikitakeDynamo",
    "Rossler",
    "Rucklidge",
    "Sakarya",
    "SaltonSea",
    "SanUmSrisuchinwong",
    "ShimizuMorioka",
    "SprottA",
    "SprottB",
    "SprottC",
    "SprottD",
    "SprottE",
    "SprottF",
    "SprottG",
    "SprottH",
    "SprottI",
    "SprottJ",
    "SprottJerk",
    "SprottK",
    "SprottL",
    "SprottM",
    "SprottMore",
    "SprottN",
    "SprottO",
    "SprottP",
    "SprottQ",
    "SprottR",
    "SprottS",
    "SprottTorus",
    "StickSlipOscillator",
    "SwingingAtwood",
    "Thomas",
    "ThomasLabyrinth",
    "Torus",
    "Tsucs2",
    "TurchinHanski",
    "VallisElNino",
    "WangSun",
    "WindmiReduced",
    "YuWang",
    "YuWang2",
    "ZhouChen",
]
