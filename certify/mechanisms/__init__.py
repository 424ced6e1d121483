"""certify.mechanisms"""
