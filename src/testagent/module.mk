$(eval $(call program,testagent,test-libexec,global util))
