"""Distributional dynamic programming with stock augmentation.

Return-distribution representations (categorical with the C51 projection, quantile, exact
finite support) and their distances; finite MDPs with reward distributions; distributional
policy evaluation; value and policy iteration on the stock-augmented state (s, c), which
optimise any expected utility of the return — CVaR (through the Rockafellar–Uryasev form),
threshold probabilities, homeostasis — over history-dependent policies; Monte Carlo rollouts;
exhaustive references; and a stock-augmented quantile-regression DQN.

**Reference:** Pires, Rowland, Borsa, Guo, Khetarpal, Barreto, Abel, Munos, Dabney (2025),
*Optimizing Return Distributions with Distributional Dynamic Programming*, JMLR.
"""

from ._bellman import ExactReturns as ExactReturns
from ._bellman import PolicyEvaluation as PolicyEvaluation
from ._bellman import categorical_bellman_operator as categorical_bellman_operator
from ._bellman import evaluate_policy as evaluate_policy
from ._bellman import exact_bellman_operator as exact_bellman_operator
from ._bellman import exact_return_distribution as exact_return_distribution
from ._bellman import markov_policy as markov_policy
from ._bruteforce import best_history_policy_value as best_history_policy_value
from ._bruteforce import best_markov_policy_value as best_markov_policy_value
from ._bruteforce import cvar_of as cvar_of
from ._bruteforce import history_policy_distributions as history_policy_distributions
from ._bruteforce import markov_policy_distributions as markov_policy_distributions
from ._bruteforce import optimal_action_agreement as optimal_action_agreement
from ._cvar import CVaRSolution as CVaRSolution
from ._cvar import optimize_cvar as optimize_cvar
from ._distances import cramer as cramer
from ._distances import kolmogorov_smirnov as kolmogorov_smirnov
from ._distances import wasserstein as wasserstein
from ._distributions import AbstractDistribution as AbstractDistribution
from ._distributions import Categorical as Categorical
from ._distributions import FiniteSupport as FiniteSupport
from ._distributions import Quantiles as Quantiles
from ._distributions import categorical_projection as categorical_projection
from ._distributions import cvar as cvar
from ._distributions import dirac as dirac
from ._distributions import quantile as quantile
from ._distributions import quantile_projection as quantile_projection
from ._envs import cliff_gridworld as cliff_gridworld
from ._envs import foraging_homeostasis as foraging_homeostasis
from ._envs import random_mdp as random_mdp
from ._envs import risky_safe_chain as risky_safe_chain
from ._envs import two_step_gamble as two_step_gamble
from ._greedy import greedy_stock_action as greedy_stock_action
from ._greedy import stock_qrdqn_policy as stock_qrdqn_policy
from ._mdp import FiniteMDP as FiniteMDP
from ._mdp import lattice_spacing as lattice_spacing
from ._network import StockQNetwork as StockQNetwork
from ._objectives import AbstractExpectedUtility as AbstractExpectedUtility
from ._objectives import AbstractObjective as AbstractObjective
from ._objectives import CVaRObjective as CVaRObjective
from ._objectives import ExpectedUtility as ExpectedUtility
from ._objectives import Homeostasis as Homeostasis
from ._objectives import MeanVariance as MeanVariance
from ._objectives import MixtureWarning as MixtureWarning
from ._objectives import NegativePart as NegativePart
from ._objectives import QuantileObjective as QuantileObjective
from ._objectives import ThresholdProbability as ThresholdProbability
from ._projection import default_support as default_support
from ._qrdqn_cvar import StockQRDQNCVaR as StockQRDQNCVaR
from ._qrdqn_cvar import stock_qrdqn_cvar as stock_qrdqn_cvar
from ._qrdqn_train import StockQRDQNResult as StockQRDQNResult
from ._qrdqn_train import train_stock_qrdqn as train_stock_qrdqn
from ._quantile_loss import quantile_huber_loss as quantile_huber_loss
from ._rollout import sample_returns as sample_returns
from ._stock import StockEvaluation as StockEvaluation
from ._stock import StockSolution as StockSolution
from ._stock import evaluate_stock_policy as evaluate_stock_policy
from ._stock import stock_augmented_policy_iteration as stock_augmented_policy_iteration
from ._stock import stock_augmented_value_iteration as stock_augmented_value_iteration
from ._stock_grid import StockPolicy as StockPolicy
from ._stock_grid import reachable_stock_grid as reachable_stock_grid
